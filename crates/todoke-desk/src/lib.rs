//! The desk's API surface: every action a desk user takes, whether from the
//! command line (`todoke-cli`) or the desktop app. Callers translate; the
//! rules live in `todoke-domain`, persistence in `todoke-store`.

mod actions;
mod chart_pdf;
mod clock;
mod error;
mod inbox;
mod reports;
mod service;
mod sync;
mod transfer;

pub use actions::{
    code_lists, CodeLabel, CodeLists, DeskStatus, ExportEncoding, FormCheck, Progress, SessionInfo, SpecimensOfMethod, TestsSaved,
};
pub use chart_pdf::{pdf_of_image, write_chart_pdf};
pub use clock::{today_jst, Clock, FixedClock, SystemClock};
pub use error::{DeskError, ErrorCode};
pub use inbox::{Account, ChangeState, ConflictItem, KeepSide, RejectedItem, SyncOverview, SyncStep, SyncSummary};
pub use reports::{write_png, write_table, InputRateView, PublishedImportSummary, ReportCell, ReportColumn, ReportRequest, ReportView};
pub use service::{DeskService, SaveResult};
pub use sync::{Keep, SyncProgress, SyncReport, SyncStatus};
pub use todoke_store::PublishedImport;
pub use transfer::{ExportFormat, ExportSummary, ImportSummary};
