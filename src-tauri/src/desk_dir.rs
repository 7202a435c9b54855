//! Which directory is the desk: `--desk DIR`, else `$TODOKE_DESK_DIR`, else the platform
//! data directory + `todoke`.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

pub const ENV_VAR: &str = "TODOKE_DESK_DIR";

/// No desk directory could be chosen.
#[derive(Debug, PartialEq, Eq)]
pub struct NoDeskDir;

impl fmt::Display for NoDeskDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "窓口のフォルダが決まりません。--desk DIR か環境変数 {ENV_VAR} で指定してください。 \
             / No desk directory: this platform has no data directory; pass --desk DIR or set {ENV_VAR}."
        )
    }
}

/// The first of: the command-line flag, a non-empty environment value, `data_dir/todoke`.
pub fn resolve(
    flag: Option<PathBuf>,
    env: Option<OsString>,
    data_dir: Option<PathBuf>,
) -> Result<PathBuf, NoDeskDir> {
    flag.or_else(|| env.filter(|v| !v.is_empty()).map(PathBuf::from))
        .or_else(|| data_dir.map(|d| d.join("todoke")))
        .ok_or(NoDeskDir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<PathBuf> {
        Some(PathBuf::from(s))
    }

    #[test]
    fn flag_wins_over_env_and_data_dir() {
        let got = resolve(p("/flag"), Some("/env".into()), p("/data"));
        assert_eq!(got, Ok(PathBuf::from("/flag")));
    }

    #[test]
    fn env_wins_over_data_dir() {
        let got = resolve(None, Some("/env".into()), p("/data"));
        assert_eq!(got, Ok(PathBuf::from("/env")));
    }

    #[test]
    fn empty_env_counts_as_unset() {
        let got = resolve(None, Some("".into()), p("/data"));
        assert_eq!(got, Ok(PathBuf::from("/data/todoke")));
    }

    #[test]
    fn nothing_to_go_on_is_an_error() {
        assert_eq!(resolve(None, None, None), Err(NoDeskDir));
    }
}
