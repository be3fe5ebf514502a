//! `listen --tui`: the inspector's loop. It takes the pipeline's `UiEvent`s (the queue the
//! line log would read), key presses and the results of its own actions, feeds them to the
//! model (`tui::model`), does what the model asks (`actions`: read history from the relay,
//! replay, edit, stop, copy) and redraws. On `q`, Ctrl-C, SIGTERM or the pipeline's end it
//! gives the terminal back, stops `listen`, and prints the summary line the log would.

mod actions;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use hookrelay_proto::Event;
use time::UtcOffset;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::output::queue::UiEvent;
use crate::output::stdout::write_stdout;
use crate::tui::draw::{draw, list_height};
use crate::tui::input::{Gate, spawn_reader};
use crate::tui::model::{Command, Conn, Input, Model};
use crate::tui::terminal::TerminalGuard;
pub(super) use actions::Backend;

/// Capacity of the queue of key presses and action results into the loop. When full, the
/// key reader and the action tasks wait: nothing is dropped.
const INPUT_QUEUE: usize = 256;

/// How often the screen is redrawn with no input (the reconnect countdown).
const TICK: Duration = Duration::from_millis(500);

/// Most queued pipeline events applied before a redraw, so a burst is drawn once.
const BATCH: usize = 512;

/// What an action task hands back to the loop.
pub(super) enum Done {
    /// Something for the model.
    Input(Input),
    /// An OSC 52 sequence to write, and what to say once it is written.
    Copy(Vec<u8>, String),
    /// The event to open in `$EDITOR`.
    EditReady(Event),
    /// The editor closed: the edited event, or why nothing is sent.
    Edited(anyhow::Result<Event>),
}

/// What ends the inspector besides the user.
pub(super) struct Ends {
    /// Ctrl-C or SIGTERM (`listen`'s cancellation); the inspector cancels it itself on `q`,
    /// so `listen` stops with it.
    pub quit: CancellationToken,
    /// The pipeline is over (a fatal error, or the end after `quit`).
    pub finished: CancellationToken,
}

/// Runs the inspector until the user quits, `quit` is cancelled (SIGTERM) or the pipeline
/// ends; `backend` arrives once the channel is known. Cancels `quit` on the way out, then
/// takes the pipeline's last events for the summary line.
pub(super) async fn run(
    mut events: mpsc::Receiver<UiEvent>,
    backend: oneshot::Receiver<Backend>,
    ends: Ends,
    offset: UtcOffset,
) -> anyhow::Result<()> {
    let Ends { quit, finished } = ends;
    let mut guard = match TerminalGuard::enter() {
        Ok(guard) => guard,
        Err(err) => {
            quit.cancel();
            return Err(anyhow::Error::new(err).context("could not take over the terminal"));
        }
    };
    let mut model = Model::new(Instant::now(), offset);
    let looped = run_loop(&mut guard, &mut model, &mut events, backend, &quit, &finished).await;
    drop(guard);
    quit.cancel();
    // The pipeline winds down now; its last events still count for the summary.
    while let Some(event) = events.recv().await {
        model.update(Input::Ui(event));
    }
    if let Some((in_flight, resume_after)) = model.stopped {
        let summary = model.outcomes.summary(in_flight, resume_after);
        // stdout closed by now is no reason to fail: the run itself went well.
        let _ = write_stdout(format!("{summary}\n").as_bytes());
    }
    looped
}

async fn run_loop(
    guard: &mut TerminalGuard,
    model: &mut Model,
    events: &mut mpsc::Receiver<UiEvent>,
    mut backend_rx: oneshot::Receiver<Backend>,
    quit: &CancellationToken,
    finished: &CancellationToken,
) -> anyhow::Result<()> {
    let (inputs_tx, mut inputs) = mpsc::channel(INPUT_QUEUE);
    let (done_tx, mut done) = mpsc::channel(INPUT_QUEUE);
    let gate = Gate::new();
    let reader = spawn_reader(inputs_tx, gate.clone()).context("could not read the keyboard")?;
    let size = guard.terminal().size()?;
    model.update(Input::Resized(list_height(size.height)));
    let mut state = Actions {
        backend: None,
        waiting: Vec::new(),
        tasks: JoinSet::new(),
        done: done_tx,
        editing: false,
    };
    let mut tick = tokio::time::interval(TICK);
    let result = loop {
        if model.quit {
            break Ok(());
        }
        let commands = tokio::select! {
            () = quit.cancelled() => break Ok(()),
            () = finished.cancelled() => break Ok(()),
            event = events.recv() => match event {
                Some(event) => {
                    let mut commands = model.update(Input::Ui(event));
                    for _ in 0..BATCH {
                        let Ok(event) = events.try_recv() else { break };
                        commands.extend(model.update(Input::Ui(event)));
                    }
                    commands
                }
                None => break Ok(()),
            },
            Some(input) = inputs.recv() => model.update(input),
            Some(finished) = done.recv() => match finished {
                Done::Input(input) => model.update(input),
                Done::Copy(sequence, said) => {
                    let written = guard.write_raw(&sequence);
                    let text = match written {
                        Ok(()) => said,
                        Err(err) => format!("could not copy: {err}"),
                    };
                    model.update(Input::Status(text))
                }
                Done::EditReady(_) if state.editing => {
                    model.update(Input::Status("an edit is already open".into()))
                }
                Done::EditReady(event) => {
                    gate.pause();
                    guard.suspend();
                    state.edit(event);
                    Vec::new()
                }
                Done::Edited(edited) => {
                    guard.resume()?;
                    gate.resume();
                    state.edited(edited, model)
                }
            },
            received = &mut backend_rx, if state.backend.is_none() => {
                match received {
                    Ok(backend) => state.backend = Some(backend),
                    // The pipeline ended before the channel was known.
                    Err(_) => break Ok(()),
                }
                std::mem::take(&mut state.waiting)
            }
            _ = tick.tick() => {
                // Only the reconnect countdown changes with time alone.
                if !matches!(model.conn, Conn::Reconnecting { .. }) {
                    continue;
                }
                Vec::new()
            }
        };
        model.now = Instant::now();
        for command in commands {
            state.run(command);
        }
        if !state.editing {
            guard.terminal().draw(|frame| draw(frame, model))?;
        }
    };
    gate.stop();
    state.tasks.shutdown().await;
    drop(state);
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    result
}

/// What the loop needs to carry out the model's commands.
struct Actions {
    /// The relay, channel and forwarders; `None` until the channel is known.
    backend: Option<Backend>,
    /// Commands that came before the backend.
    waiting: Vec<Command>,
    /// Running actions (aborted when the inspector ends).
    tasks: JoinSet<()>,
    /// Where they report.
    done: mpsc::Sender<Done>,
    /// `$EDITOR` has the terminal.
    editing: bool,
}

impl Actions {
    fn run(&mut self, command: Command) {
        let Some(backend) = &self.backend else {
            if command != Command::Quit {
                self.waiting.push(command);
            }
            return;
        };
        match command {
            Command::Quit => {}
            Command::Edit { .. } if self.editing => {
                let said = "an edit is already open".to_owned();
                self.tasks.spawn(actions::report(self.done.clone(), said));
            }
            command => {
                self.tasks.spawn(actions::carry_out(backend.clone(), command, self.done.clone()));
            }
        }
        // Finished tasks are reaped as new ones start, so the set stays small.
        while self.tasks.try_join_next().is_some() {}
    }

    fn edit(&mut self, event: Event) {
        self.editing = true;
        let done = self.done.clone();
        self.tasks.spawn(async move {
            let edited =
                tokio::task::spawn_blocking(move || crate::commands::replay::edit::edit(&event))
                    .await
                    .unwrap_or_else(|err| Err(anyhow::anyhow!("the editor task failed: {err}")));
            let _ = done.send(Done::Edited(edited)).await;
        });
    }

    fn edited(&mut self, edited: anyhow::Result<Event>, model: &mut Model) -> Vec<Command> {
        self.editing = false;
        match (edited, &self.backend) {
            (Ok(event), Some(backend)) => {
                let done = self.done.clone();
                self.tasks.spawn(actions::replay(backend.clone(), event, true, done));
                model.update(Input::Status("sending the edited request…".into()))
            }
            (Err(err), _) => model.update(Input::Status(format!("{err:#}"))),
            (Ok(_), None) => Vec::new(),
        }
    }
}
