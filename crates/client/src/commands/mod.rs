//! One file per subcommand, each `run(config, env) -> anyhow::Result<ExitCode>` with the
//! plain config `cli` built from the flags; [`run`] sets up what every command shares
//! ([`CommandEnv`]: directories, time zone, Ctrl-C) and runs the one asked for. Commands
//! compose the groups below them: `relay`, `deliver`, `output`, `local`.

use std::process::ExitCode;

use time::UtcOffset;
use tokio_util::sync::CancellationToken;

use crate::local::paths::Dirs;
use crate::output::stdout::write_stdout;

pub(crate) mod channels;
pub(crate) mod events;
pub(crate) mod listen;
pub(crate) mod login;
pub(crate) mod replay;
pub(crate) mod sandbox;
pub(crate) mod show;
pub(crate) mod trigger;

/// A command ready to run.
#[derive(Debug)]
pub enum Command {
    /// `hookrelay listen`.
    Listen(listen::Config),
    /// `hookrelay events`.
    Events(events::Config),
    /// `hookrelay show`.
    Show(show::Config),
    /// `hookrelay replay`.
    Replay(replay::Config),
    /// `hookrelay trigger`.
    Trigger(trigger::Config),
    /// `hookrelay sandbox`.
    Sandbox(sandbox::Config),
    /// `hookrelay channels`.
    Channels(channels::Action),
    /// `hookrelay login`.
    Login(login::Config),
    /// `hookrelay logout`.
    Logout,
    /// Text to print as is: a completion script or the man page, which `cli` generates
    /// from the command line's definition.
    Print(Vec<u8>),
}

/// What every command gets besides its own config.
#[derive(Debug, Clone)]
pub(crate) struct CommandEnv {
    /// Where state files live.
    pub dirs: Dirs,
    /// The local time zone, for timestamps shown to people.
    pub offset: UtcOffset,
    /// Cancelled on Ctrl-C / SIGTERM.
    pub cancel: CancellationToken,
}

/// Runs `command` with Ctrl-C and SIGTERM turned into a cancellation; `offset` is the local
/// time zone (read by `main` while the process was single-threaded).
pub(crate) async fn run(command: Command, offset: UtcOffset) -> anyhow::Result<ExitCode> {
    let cancel = CancellationToken::new();
    let signals = hookrelay_relay::spawn_signal_watch(cancel.clone());
    let result = async {
        let env = CommandEnv { dirs: Dirs::from_env()?, offset, cancel };
        match command {
            Command::Listen(config) => listen::run(config, &env).await,
            Command::Events(config) => events::run(config, &env).await,
            Command::Show(config) => show::run(config, &env).await,
            Command::Replay(config) => replay::run(config, &env).await,
            Command::Trigger(config) => trigger::run(config, &env).await,
            Command::Sandbox(config) => sandbox::run(config, &env).await,
            Command::Channels(config) => channels::run(config, &env).await,
            Command::Login(config) => login::run(config, &env).await,
            Command::Logout => login::logout(&env).await,
            Command::Print(text) => write_stdout(&text).map(|()| ExitCode::SUCCESS),
        }
    }
    .await;
    signals.abort();
    result
}
