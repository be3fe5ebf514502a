//! The catalogue of simulated event types: the built-in profile (the loan-servicing provider
//! of DESIGN §6) plus types loaded from `--catalog FILE` (JSON or TOML), and building an
//! event body from a type's data template.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::faker::Faker;
use crate::mode::Mode;
use crate::template::{Context, Node};

mod file;
use file::CatalogFile;

/// The built-in profile, parsed by the same loader as user files.
const BUILTIN: &str = include_str!("builtin.json");
/// Origin shown for built-in types.
pub(crate) const BUILTIN_ORIGIN: &str = "built-in";

/// Where an event type may be triggered by hand (`POST /v1/webhook_url/test`, `trigger`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// Only in sandbox mode.
    #[default]
    Sandbox,
    /// In sandbox and production mode (the provider's `test`).
    Production,
    /// Never by hand: the event only happens "for real" (e.g. `borrower.delinquent`).
    Never,
}

impl Trigger {
    /// Whether a test request in `mode` may send this type.
    pub fn allows(self, mode: Mode) -> bool {
        match self {
            Trigger::Production => true,
            Trigger::Sandbox => mode == Mode::Sandbox,
            Trigger::Never => false,
        }
    }

    /// `"sandbox"`, `"production"` or `"never"`, as in catalogue files.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Sandbox => "sandbox",
            Trigger::Production => "production",
            Trigger::Never => "never",
        }
    }
}

/// One event type of the catalogue.
#[derive(Clone, Debug)]
pub struct EventType {
    name: String,
    description: String,
    trigger: Trigger,
    origin: String,
    data: Node,
    /// The file's envelope; `None` is the provider's `{"event_type", "data"}`.
    envelope: Option<Arc<Node>>,
}

impl EventType {
    /// The `event_type` value, e.g. `connectivity.interrupted`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// One line saying what the event means.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// Where it may be triggered by hand.
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }
    /// `"built-in"` or the path of the catalogue file that defined it.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// A simulated event, ready to POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The type it was built from.
    pub event_type: String,
    /// The exact JSON body, `{"event_type":...,"data":...}` for the built-in envelope.
    pub body: Vec<u8>,
}

impl Event {
    /// The body parsed as JSON.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("rendered templates are valid JSON")
    }
}

/// The catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("could not read catalogue {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid catalogue.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// The file (or `built-in`).
        origin: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// No such event type in the catalogue.
#[derive(Debug, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

/// The two accepted file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

impl Format {
    /// By extension (`.json`, `.toml`); otherwise JSON if the text starts with `{`, else TOML.
    pub fn detect(path: &Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            Some(e) if e.eq_ignore_ascii_case("toml") => Format::Toml,
            _ if text.trim_start().starts_with('{') => Format::Json,
            _ => Format::Toml,
        }
    }
}

/// The event types, in order: built-in first, then each file's new types.
#[derive(Clone, Debug)]
pub struct Catalog {
    types: Vec<EventType>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Catalog {
    /// The built-in profile: `test`, `connectivity.interrupted`, `connectivity.restored`,
    /// `borrower.delinquent`.
    pub fn builtin() -> Self {
        let mut catalog = Catalog::empty();
        catalog.merge_str(BUILTIN, Format::Json, BUILTIN_ORIGIN).expect(
            "the built-in catalogue is valid (unit test builtin_types_have_documented_triggers)",
        );
        catalog
    }

    /// No types at all (a base for a catalogue of another provider only).
    pub fn empty() -> Self {
        Catalog { types: Vec::new() }
    }

    /// The built-in profile with the types of `path` merged over it.
    pub fn load_file(path: &Path) -> Result<Self, CatalogError> {
        Self::load_files(&[path])
    }

    /// The built-in profile with the types of each of `paths` merged over it, in order (later
    /// files win): what `--catalog FILE` (repeatable) means for `sandbox` and `trigger`.
    pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> Result<Self, CatalogError> {
        let mut catalog = Catalog::builtin();
        for path in paths {
            catalog.merge_file(path.as_ref())?;
        }
        Ok(catalog)
    }

    /// Merges a catalogue file: a type with an existing name replaces it, a new one is added.
    pub fn merge_file(&mut self, path: &Path) -> Result<(), CatalogError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| CatalogError::Read { path: path.display().to_string(), source })?;
        self.merge_str(&text, Format::detect(path, &text), &path.display().to_string())
    }

    /// Merges catalogue text; `origin` names it in errors and in [`EventType::origin`].
    pub fn merge_str(
        &mut self,
        text: &str,
        format: Format,
        origin: &str,
    ) -> Result<(), CatalogError> {
        let file: CatalogFile = match format {
            Format::Json => serde_json::from_str(text).map_err(|e| {
                let suffix = format!(" at line {} column {}", e.line(), e.column());
                let msg = e.to_string();
                CatalogError::Invalid {
                    origin: origin.to_owned(),
                    line: e.line(),
                    column: e.column(),
                    message: msg.strip_suffix(&suffix).unwrap_or(&msg).to_owned(),
                }
            })?,
            Format::Toml => toml::from_str(text).map_err(|e| {
                let (line, column) = line_column(text, e.span().map_or(0, |s| s.start));
                CatalogError::Invalid {
                    origin: origin.to_owned(),
                    line,
                    column,
                    message: e.message().trim_end().to_owned(),
                }
            })?,
        };
        let envelope = file.envelope.map(|e| Arc::new(e.0));
        for t in file.event_types.0 {
            let new = EventType {
                name: t.name,
                description: t.description,
                trigger: t.trigger,
                origin: origin.to_owned(),
                data: t.data.0,
                envelope: envelope.clone(),
            };
            match self.types.iter_mut().find(|old| old.name == new.name) {
                Some(old) => *old = new,
                None => self.types.push(new),
            }
        }
        Ok(())
    }

    /// All types, for `--list`.
    pub fn types(&self) -> &[EventType] {
        &self.types
    }

    /// The type called `name`.
    pub fn get(&self, name: &str) -> Option<&EventType> {
        self.types.iter().find(|t| t.name == name)
    }

    /// Names of the types a test request may send in `mode`.
    pub fn triggerable(&self, mode: Mode) -> Vec<&str> {
        self.types.iter().filter(|t| t.trigger.allows(mode)).map(|t| t.name.as_str()).collect()
    }

    /// Builds a simulated event of type `event_type` with fresh fake data. Does not check
    /// triggerability: the caller decides (the emulator's test route does).
    pub fn build(&self, event_type: &str, faker: &mut Faker) -> Result<Event, UnknownEventType> {
        let t = self.get(event_type).ok_or_else(|| UnknownEventType(event_type.to_owned()))?;
        let cx = Context { event_type, data_json: None };
        let mut data = String::new();
        t.data.render(faker, &cx, &mut data);
        Ok(wrap(event_type, t.envelope.as_deref(), &data, faker))
    }

    /// Builds an event of type `event_type` around caller-given `data` (`trigger --data`).
    /// A known type uses its file's envelope; an unknown one the provider's.
    pub fn build_with_data(
        &self,
        event_type: &str,
        data: &serde_json::Value,
        faker: &mut Faker,
    ) -> Event {
        let envelope = self.get(event_type).and_then(|t| t.envelope.as_deref());
        wrap(event_type, envelope, &data.to_string(), faker)
    }
}

fn wrap(event_type: &str, envelope: Option<&Node>, data_json: &str, faker: &mut Faker) -> Event {
    let body = match envelope {
        None => format!(
            "{{\"event_type\":{},\"data\":{data_json}}}",
            serde_json::Value::String(event_type.to_owned())
        ),
        Some(node) => {
            let cx = Context { event_type, data_json: Some(data_json) };
            let mut out = String::new();
            node.render(faker, &cx, &mut out);
            out
        }
    };
    Event { event_type: event_type.to_owned(), body: body.into_bytes() }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
pub(crate) mod tests;
