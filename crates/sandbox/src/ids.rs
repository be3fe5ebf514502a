//! Random identifiers: delivery (message) ids and API keys.

/// A fresh message id, `msg_` and 26 random alphanumerics (about 150 bits).
pub(crate) fn new_message_id() -> String {
    format!("msg_{}", random_alnum(26))
}

/// `n` characters from `[0-9A-Za-z]`, from the operating system's random source.
pub(crate) fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    // 256 % 62 != 0 leaves a slight bias, irrelevant for ids that only need to be unguessable.
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_distinct() {
        let a = new_message_id();
        assert!(a.starts_with("msg_") && a.len() == 30, "{a}");
        assert_ne!(a, new_message_id());
    }
}
