//! What day it is for the rules. Japan keeps one offset (JST, UTC+9, no
//! daylight saving), so "today" is the JST date whatever the machine's zone.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    fn today(&self) -> NaiveDate {
        self.now().with_timezone(&jst()).date_naive()
    }
}

fn jst() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("JST offset is valid")
}

pub fn today_jst() -> NaiveDate {
    SystemClock.today()
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still, for tests and for replaying scripted sessions.
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
