//! The command line: parses (`args.rs`) and dispatches to the commands — `run`, `list`, `show`,
//! `replay` (`run.rs`), `bless` (`bless.rs`), `fuzz` (`fuzz.rs`), `schema` — which work from
//! what `setup.rs` makes of the flags. Every flag can also come from an `INFLUX_CONFORMANCE_*`
//! variable. Exit codes: [`ExitCode`].

mod args;
mod bless;
mod fuzz;
mod out;
mod progress;
mod run;
mod setup;

pub use args::{BlessArgs, Cli, Command, FilterArgs, FuzzArgs, ReportArgs, RunArgs, TargetArgs};
use clap::Parser;
pub use run::case_lines;

use crate::case::Corpus;
use crate::exit::ExitCode;
use crate::Error;

/// Runs the CLI and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Config
            } else {
                ExitCode::Pass
            };
            let _ = e.print();
            return code.code();
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::Config.code();
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code.code(),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::Config.code()
        }
    }
}

async fn dispatch(cli: Cli) -> Result<ExitCode, Error> {
    crate::observe::check_patterns()?;
    crate::request::check_patterns()?;
    let command = cli
        .command
        .clone()
        .unwrap_or(Command::Run(RunArgs::default()));
    match &command {
        Command::Schema => {
            out::emit(&crate::case::json_schema());
            return Ok(ExitCode::Pass);
        }
        Command::Fuzz(args) => return fuzz::fuzz(&cli, args).await,
        Command::Report(args) => return run::report_files(args),
        _ => {}
    }
    let corpus = Corpus::load(&setup::cases_dir(&cli))?;
    match &command {
        Command::Schema | Command::Fuzz(_) | Command::Report(_) => Ok(ExitCode::Pass),
        Command::List(f) => run::list(&corpus, f),
        Command::Show { id } => run::show(&cli, &corpus, id),
        Command::Replay { id, target } => run::replay(&cli, &corpus, id, target).await,
        Command::Bless(b) => bless::bless(&cli, &corpus, b).await,
        Command::Run(args) => run::run(&cli, &corpus, args).await,
    }
}
