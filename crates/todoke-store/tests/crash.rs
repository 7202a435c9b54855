//! Atomicity under kill -9 (SYNC.md property 1): an edit's record, outbox op
//! and history entry are all on disk or none is, whenever the process dies.
//!
//! The test re-runs its own binary as a child that edits cases in an endless
//! loop, kills it with SIGKILL at random moments, and checks the desk after
//! every kill.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use todoke_store::{op_kind, Desk, MemoryKeys};
use uuid::Uuid;

const CHILD_DIR_VAR: &str = "TODOKE_CRASH_CHILD_DIR";
const CASES: usize = 20;
const KILLS: usize = 32;
const READY: &str = "CRASH-CHILD-EDITING";
const EDITED: &str = "CRASH-CHILD-EDITED";

fn keys() -> MemoryKeys {
    MemoryKeys::fixed([0x5a; 32])
}

/// Child mode: edits forever (does nothing in a normal test run).
#[test]
fn crash_child_edit_loop() {
    let Ok(dir) = std::env::var(CHILD_DIR_VAR) else { return };
    let mut desk = Desk::open(Path::new(&dir), &keys()).expect("child opens the desk");
    let ids: Vec<Uuid> = desk.search(&Default::default()).unwrap().iter().map(|s| s.id).collect();
    println!("{READY}");
    for n in 0usize.. {
        let id = ids[(n * 7) % ids.len()];
        let mut case = desk.get_case(id).unwrap().unwrap();
        let count: u64 = case.investigation.notes.parse().unwrap();
        case.investigation.notes = (count + 1).to_string();
        desk.update_case(&case, &actor()).unwrap();
        println!("{EDITED}");
    }
}

/// A small deterministic generator for kill moments (the seed is printed).
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn kill_9_never_splits_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut desk = Desk::init(dir.path(), &keys()).unwrap();
        for i in 0..CASES {
            let mut c = case(&format!("試験 {i}"), "シケン", "", date(2022, 8, 1));
            c.investigation.notes = "0".into();
            desk.create_case(&c, &actor()).unwrap();
        }
    }
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("kill timing seed: {seed}");
    let mut rng = XorShift(seed);
    let mut total_edits = 0;
    for round in 0..KILLS {
        // Kill after a few committed edits plus a random moment, so every
        // round interrupts the child mid-edit however loaded the machine is.
        run_and_kill(dir.path(), 1 + rng.below(4) as usize, Duration::from_micros(rng.below(3000)));
        let edits = check_desk(dir.path(), round);
        assert!(edits >= total_edits, "edits were lost: {edits} < {total_edits}");
        total_edits = edits;
    }
    eprintln!("{KILLS} kills, {total_edits} edits survived, all whole");
    assert!(total_edits > KILLS, "the child made too few edits for the test to mean anything");
}

/// Starts the child, waits until it has committed `edits` edits, lets it run
/// `after` more, kills it.
fn run_and_kill(dir: &Path, edits: usize, after: Duration) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child_edit_loop", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_VAR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child");
    let stdout = child.stdout.take().unwrap();
    let started = Instant::now();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = 0;
    while seen < edits {
        match lines.next() {
            Some(Ok(line)) if line.contains(EDITED) => seen += 1,
            Some(Ok(_)) => {}
            other => panic!("the child stopped before editing: {other:?} (status {:?})", child.try_wait()),
        }
        assert!(started.elapsed() < Duration::from_secs(60), "child never started editing");
    }
    std::thread::sleep(after);
    child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on unix
    child.wait().unwrap();
}

/// Checks every invariant; returns the number of edits on the desk.
fn check_desk(dir: &Path, round: usize) -> usize {
    let desk = Desk::open(dir, &keys()).unwrap_or_else(|e| panic!("round {round}: desk does not open: {e}"));
    assert_eq!(desk.integrity_check().unwrap(), ["ok"], "round {round}");
    let mut edits = 0;
    for summary in desk.search(&Default::default()).unwrap() {
        let d = desk.open_case(summary.id).unwrap().unwrap();
        let case_ops: Vec<_> = d.pending_ops.iter().filter(|op| op.entity == "case").collect();
        assert_eq!(case_ops.len() as i64, d.rev, "round {round}: ops vs rev for {}", summary.id);
        assert_eq!(d.history.len() as i64, d.rev, "round {round}: history vs rev for {}", summary.id);
        assert_eq!(summary.rev, d.rev);
        let counter: i64 = d.case.investigation.notes.parse().unwrap();
        assert_eq!(counter, d.rev - 1, "round {round}: one op per increment");
        let last = case_ops.last().unwrap();
        if d.rev > 1 {
            assert_eq!(last.kind, op_kind::CASE_UPDATE);
            let change = last.payload["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["path"] == "investigation.notes")
                .expect("the counter change");
            assert_eq!(change["new"], d.case.investigation.notes.as_str(), "round {round}");
            assert_eq!(d.history.last().unwrap().op_id, Some(last.op_id));
        }
        edits += (d.rev - 1) as usize;
    }
    edits
}
