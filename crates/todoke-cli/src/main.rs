//! `todoke-cli`: a desk without a window. Every command is a thin
//! translation into `todoke_desk::DeskService`.

mod args;
mod output;
mod progress;
mod report;
mod run;
mod sync;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let lang = output::Lang::detect(cli.lang.as_deref());
    match run::run(cli, lang) {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e, lang);
            ExitCode::from(output::exit_code(&e))
        }
    }
}
