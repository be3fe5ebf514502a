//! What `--help` adds to the derived definition: two or three examples for each command,
//! the environment variables the CLI reads, and what `completions` and `man` print (both
//! generated from the same definition, so they never drift from the flags).

use clap::Command;

/// Every environment variable `hookrelay` reads, for the top-level `--help` and the man page.
const ENVIRONMENT: &str = "\
Environment:
  HOOKRELAY_RELAY        a remote relay's URL (--relay)
  HOOKRELAY_PORT         the embedded relay's port (--port)
  HOOKRELAY_TOKEN        the token of --channel (--token)
  HOOKRELAY_ADMIN_TOKEN  the admin token for creating channels on a guarded relay (--admin-token)
  HOOKRELAY_SECRET       the signing secret of --resign (--secret)
  HOOKRELAY_VERIFY       listen --verify SCHEME:SECRET
  HOOKRELAY_CONFIG_DIR   saved channels and the last relay [default: ~/.config/hookrelay]
  HOOKRELAY_DATA_DIR     cursors, last targets and the embedded relay's store
                         [default: ~/.local/share/hookrelay]
  HOOKRELAY_LOG          diagnostics on stderr, e.g. debug or hookrelay_client=trace [default: warn]
  NO_COLOR               no colors when set
  COLUMNS                the width of tables and the live log on a terminal
  VISUAL, EDITOR         the editor of replay --edit [default: vi]";

/// Examples, per subcommand.
const EXAMPLES: [(&str, &str); 11] = [
    (
        "listen",
        "  hookrelay listen -f 3000                       forward to http://localhost:3000
  hookrelay listen -f localhost:3000/webhooks --events 'invoice.*'
  hookrelay listen -f 3000 --tui                 full-screen inspector (? lists the keys)
  hookrelay listen --relay https://relay.example.com -f localhost:3000/webhooks --json",
    ),
    (
        "events",
        "  hookrelay events                               the last 50, newest last
  hookrelay events --failed --since 2h           what failed lately
  hookrelay events --type 'invoice.*' --json | jq -r .id",
    ),
    (
        "show",
        "  hookrelay show k2qz
  hookrelay show k2qz --body | jq .
  hookrelay show k2qz --curl -f 3000 | sh        send it again with curl",
    ),
    (
        "replay",
        "  hookrelay replay --failed                      once the handler is fixed
  hookrelay replay k2qz -f localhost:4000/webhooks --edit
  hookrelay replay --last 5 --resign stripe --secret whsec_...",
    ),
    (
        "trigger",
        "  hookrelay trigger --list
  hookrelay trigger connectivity.interrupted --count 3
  hookrelay trigger test --to localhost:3000/webhooks",
    ),
    (
        "sandbox",
        "  hookrelay sandbox
  hookrelay sandbox --mode production --listen 127.0.0.1:0 --json
  hookrelay sandbox --retry-schedule none --catalog my-events.toml",
    ),
    (
        "completions",
        "  hookrelay completions bash > ~/.local/share/bash-completion/completions/hookrelay
  hookrelay completions zsh > ~/.zfunc/_hookrelay
  hookrelay completions fish > ~/.config/fish/completions/hookrelay.fish",
    ),
    ("man", "  hookrelay man > ~/.local/share/man/man1/hookrelay.1 && man hookrelay"),
    (
        "login",
        "  hookrelay login https://relay.example.com --admin-token \"$(cat admin-token)\"\n  \
         HOOKRELAY_ADMIN_TOKEN=hra_... hookrelay login relay.example.com:8787",
    ),
    ("logout", "  hookrelay logout                       # back to the embedded relay"),
    (
        "channels",
        "  hookrelay channels                     # every saved channel, with its newest event\n  \
         hookrelay channels rotate              # a new token; the ingest URL stays\n  \
         hookrelay channels new --relay https://relay.example.com",
    ),
];

/// `command` with the environment section and each subcommand's examples appended to its
/// after-help text (after what the command already says there).
pub(crate) fn complete(command: Command) -> Command {
    let mut command = command.after_help(ENVIRONMENT);
    for (name, examples) in EXAMPLES {
        command = command.mut_subcommand(name, |sub| {
            let text = match sub.get_after_help() {
                Some(before) => format!("{before}\n\nExamples:\n{examples}"),
                None => format!("Examples:\n{examples}"),
            };
            sub.after_help(text)
        });
    }
    command
}

/// The completion script for `shell`.
pub(crate) fn completions(command: Command, shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = command;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "hookrelay", &mut out);
    out
}

/// The man page (roff): synopsis, options, every subcommand, and the environment section.
pub(crate) fn man_page(command: Command) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command).render(&mut out)?;
    Ok(out)
}
