//! `g2a`: the command-line tool of the g2a toolkit.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Record, inspect, replay and export remote-support session recordings (.g2a).
#[derive(Debug, Parser)]
#[command(name = "g2a", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a recording's header, duration, tracks, keyframes, index state and continuation files.
    Info(cmd::info::Args),
    /// Check every record; exit status 0 only when the file is intact.
    Verify(cmd::verify::Args),
    /// Write a clean, fully indexed copy of a damaged or unfinished recording.
    Recover(cmd::recover::Args),
    /// Print the chat transcript.
    Chat(cmd::chat::Args),
    /// List the diagnostics documents, or extract one.
    Diag(cmd::diag::Args),
    /// Record a video file (any format FFmpeg reads) or raw BGRA frames as a .g2a recording.
    Import(cmd::import::Args),
    /// Record the live screen of an X11 display (or a region or window) until stopped.
    Record(cmd::record::Args),
    /// Export a recording to MP4 (H.264, chat as subtitles) or WMV.
    Export(cmd::export::Args),
    /// Write every recorded frame as raw BGRA.
    Decode(cmd::decode::Args),
    /// Save the frame on screen at a given time as PNG.
    Frame(cmd::frame::Args),
    /// Record, verify, replay and seek the embedded sample session.
    Demo(cmd::demo::Args),
    /// Replay a recording in a window: play, scrub, chat/events/diagnostics panes, export.
    Play(cmd::play::Args),
    /// The session catalog: organisation, import, search, rights, retention,
    /// passphrase-gated replay and export.
    #[command(subcommand)]
    Catalog(cmd::catalog::CatalogCmd),
    /// Run the review service: the web Management Center over a catalog.
    Serve(cmd::serve::Args),
    /// Send recordings to a review service, resuming interrupted uploads.
    Upload(cmd::upload::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(a) => cmd::info::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Recover(a) => cmd::recover::run(a),
        Command::Chat(a) => cmd::chat::run(a),
        Command::Diag(a) => cmd::diag::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::Record(a) => cmd::record::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Decode(a) => cmd::decode::run(a),
        Command::Frame(a) => cmd::frame::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Play(a) => cmd::play::run(a),
        Command::Catalog(c) => cmd::catalog::run(c).map(|()| ExitCode::SUCCESS),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Upload(a) => cmd::upload::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("g2a: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line, each cause once: a cause whose
/// text the message already holds (errors that print their source) is not
/// repeated, and line breaks inside a message become spaces.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
    }
    msg.split(['\r', '\n'])
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn one_line_skips_causes_the_message_already_holds() {
        let inner = std::io::Error::other("disk full");
        let e = anyhow::Error::new(inner).context("writing S1.g2a: disk full");
        assert_eq!(super::one_line(&e), "writing S1.g2a: disk full");
        let e = anyhow::anyhow!("bad\nname").context("opening");
        assert_eq!(super::one_line(&e), "opening: bad name");
    }
}
