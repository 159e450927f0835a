//! The `twinsim` binary: parse, run, map errors to exit codes (2 = bad input).

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

// Each replication allocates and frees its shards' accounts (tens of kB each, megabytes in
// all, many times a second with many replications) and many small referral lists; glibc
// hands large blocks back to the kernel and takes the page faults again, mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
