//! Bulk work on a desk: importing open data, exporting, generating demo
//! cases. Each reports progress through a callback so the CLI can draw a bar
//! and the app a progress indicator.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use todoke_domain::Case;
use todoke_exchange::{Encoding, ImportProgress, ImportReport};
use todoke_synth::{Generator, GeneratorConfig};

use crate::error::DeskError;
use crate::service::DeskService;

/// Cases are written in transactions of this many (each case with its outbox
/// entry: both or neither).
const BATCH: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// 自治体標準オープンデータセット 陽性患者属性, all 19 columns.
    OpenData,
    /// The same, in the original 16-column layout (no 確定_年月日, 患者_職業,
    /// 患者_接触歴の有無フラグ), for files that were published that way.
    OpenDataBase16,
    /// The staff case list.
    Cases,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportSummary {
    /// Rows read and imported, and every refused row with its line and reason.
    pub report: ImportReport,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportSummary {
    pub cases: u64,
    /// Cells whose characters Shift_JIS cannot hold, replaced by 〓.
    pub unmappable: u64,
}

impl DeskService {
    /// Imports an open-data patient list. Bad rows are reported by line;
    /// good rows are imported.
    pub fn import_opendata(&mut self, path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<ImportSummary, DeskError> {
        let file = File::open(path).map_err(|e| DeskError::io(&path.display().to_string(), e))?;
        let total = file.metadata().map(|m| m.len()).unwrap_or(0);
        let today = self.clock.today();
        let actor = self.actor.clone();
        let mut batch: Vec<Case> = Vec::with_capacity(BATCH);
        let desk = &mut self.desk;
        let report = todoke_exchange::read_opendata(
            BufReader::new(file),
            today,
            |case: Case| -> Result<(), todoke_store::StoreError> {
                batch.push(case);
                if batch.len() >= BATCH {
                    desk.bulk_create(batch.drain(..), &actor, BATCH, &mut |_| {})?;
                }
                Ok(())
            },
            |p: &ImportProgress| progress(p.bytes_read, total),
        );
        let report = report.map_err(|e| DeskError::bad_input(e.message_ja(), e.message_en()))?;
        if !batch.is_empty() {
            self.desk.bulk_create(batch.drain(..), &actor, BATCH, &mut |_| {}).map_err(DeskError::from)?;
        }
        progress(total, total);
        Ok(ImportSummary { report })
    }

    /// Exports every case, streaming (memory stays flat at any size).
    pub fn export(
        &self,
        path: &Path,
        format: ExportFormat,
        encoding: Encoding,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ExportSummary, DeskError> {
        let total = self.desk.case_count().map_err(DeskError::from)?;
        let tmp = path.with_extension("partial");
        let file = File::create(&tmp).map_err(|e| DeskError::io(&tmp.display().to_string(), e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut done = 0u64;
        let mut failure: Option<todoke_store::StoreError> = None;
        let cases = self.desk.iter_cases().map_err(DeskError::from)?.map_while(|c| match c {
            Ok(c) => {
                done += 1;
                if done.is_multiple_of(10_000) {
                    progress(done, total);
                }
                Some(c)
            }
            Err(e) => {
                failure = Some(e);
                None
            }
        });
        let report = match format {
            ExportFormat::OpenData => todoke_exchange::write_opendata(&mut out, encoding, cases),
            ExportFormat::OpenDataBase16 => {
                todoke_exchange::write_opendata_layout(&mut out, encoding, todoke_exchange::OpenDataLayout::Base16, cases)
            }
            ExportFormat::Cases => todoke_exchange::write_cases_csv(&mut out, encoding, cases),
        }
        .map_err(|e| DeskError::bad_input(e.message_ja(), e.message_en()))?;
        out.flush().map_err(|e| DeskError::io(&tmp.display().to_string(), e))?;
        drop(out);
        if let Some(e) = failure {
            std::fs::remove_file(&tmp).ok();
            return Err(e.into());
        }
        std::fs::rename(&tmp, path).map_err(|e| DeskError::io(&path.display().to_string(), e))?;
        progress(total, total);
        Ok(ExportSummary { cases: report.cases, unmappable: report.unmappable_total })
    }

    /// Generates realistic demo cases (and their observations and clusters).
    ///
    /// `days` is how far back the epidemic curve reaches from today, so that
    /// a demo desk has cases in every stage: new, in recovery and ended.
    pub fn generate(&mut self, cases: usize, seed: u64, days: u32, progress: &mut dyn FnMut(u64, u64)) -> Result<usize, DeskError> {
        let end = self.clock.today();
        let start = end - chrono::Days::new(u64::from(days.max(1)));
        let config = GeneratorConfig { seed, cases, start, end, surge_at_end: true, ..GeneratorConfig::default() };
        let generator = Generator::try_new(config).map_err(|e| DeskError::bad_input(e.to_string(), e.to_string()))?;
        for cluster in generator.clusters() {
            self.desk.upsert_cluster(&cluster, &self.actor).map_err(DeskError::from)?;
        }
        let actor = self.actor.clone();
        let mut generator = generator;
        let mut written = 0usize;
        loop {
            let mut batch = Vec::with_capacity(BATCH);
            let mut observations = Vec::new();
            for g in generator.by_ref().take(BATCH) {
                batch.push(g.case);
                observations.extend(g.observations);
            }
            if batch.is_empty() {
                break;
            }
            written += batch.len();
            self.desk.bulk_create_with_observations(batch, observations, &actor).map_err(DeskError::from)?;
            progress(written as u64, cases as u64);
        }
        Ok(written)
    }
}
