//! The emulated provider environment (sandbox or production), a leaf: the catalogue decides
//! with it which event types may be tested, the configuration and the API carry it.

/// Which of the provider's environments the emulator behaves like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Any event type the catalogue marks triggerable can be tested.
    Sandbox,
    /// Only types triggerable in production (built-in: `test`), as the provider documents.
    Production,
}

impl Mode {
    /// `"sandbox"` or `"production"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sandbox => "sandbox",
            Mode::Production => "production",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sandbox" => Ok(Mode::Sandbox),
            "production" => Ok(Mode::Production),
            other => Err(format!("unknown mode {other:?}: expected sandbox or production")),
        }
    }
}
