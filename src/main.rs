//! `otasim`: the command-line front end. The binary is glue: it parses the command line
//! (`cli::args`), runs one command (`cli::commands`) against the library, and renders
//! (`cli::output`). Errors are printed once here, as `error: <message>`.

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use cli::args::Cli;

#[global_allocator]
static ALLOCATOR: cli::huge_pages::HugePages = cli::huge_pages::HugePages;

fn main() -> ExitCode {
    // Usage errors exit with clap's status 2; `--help` and `--version` with 0.
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `diff` found differences (R33): its output is complete.
        Err(err) if err.is::<cli::Differ>() => ExitCode::from(1),
        // A reader that went away (`otasim resolve … | head -1`) is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if err.is::<cli::interrupt::Interrupted>() => {
            eprintln!("error: interrupted (nothing was written)");
            ExitCode::from(cli::interrupt::EXIT_INTERRUPTED)
        }
        Err(err) => {
            eprintln!("error: {}", render_error(&err));
            ExitCode::from(cli::error_status(&cli.command))
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    cli::dispatch(&cli.command, &mut out)?;
    out.flush()?;
    Ok(())
}

/// The error chain joined with ": ", skipping a cause that its parent already quotes.
fn render_error(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn error_chain_is_joined_without_repeats() {
        let inner = io::Error::new(io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(inner).context("reading s.toml");
        assert_eq!(render_error(&err), "reading s.toml: no such file");
        let err = anyhow::anyhow!("x: no such file").context("outer");
        assert_eq!(render_error(&err), "outer: x: no such file");
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let err: anyhow::Result<()> =
            Err(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing rows");
        assert!(is_broken_pipe(&err.unwrap_err()));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
