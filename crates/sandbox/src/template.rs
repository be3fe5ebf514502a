//! Data templates: JSON (or TOML) values whose strings may hold `{{placeholder}}`s that are
//! replaced by fake values. Validated while the catalogue file is parsed, so an unknown
//! placeholder is reported at its own line; rendered straight to JSON text, in template order.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::faker::Faker;

/// Every placeholder: its name, what it produces, and a description for `--list`/docs.
pub(crate) const PLACEHOLDERS: &[(&str, &str)] = &[
    ("uuid", "a random UUID v4 string"),
    ("int", "an integer id, 1 to 999999 (a number when it is the whole string)"),
    ("amount", "an amount in cents, 100 to 250000 (a number when whole)"),
    ("bool", "true or false (a boolean when whole)"),
    ("hex", "24 lowercase hex digits"),
    ("alnum", "24 characters from [0-9A-Za-z], e.g. for \"evt_{{alnum}}\""),
    ("first_name", "a first name (same person within one JSON object)"),
    ("last_name", "a last name (same person within one JSON object)"),
    ("name", "\"First Last\" (same person within one JSON object)"),
    ("email", "first.last42@example.com (same person within one JSON object)"),
    ("phone", "a US number in the fictional 555-01xx range"),
    ("company", "an employer name"),
    ("servicer", "a student-loan servicer name"),
    ("street", "\"1234 Maple St\""),
    ("street2", "\"Apt 12\", \"Unit 3B\" or \"\""),
    ("city", "a city (same place within one JSON object)"),
    ("state", "the city's two-letter state"),
    ("zipcode", "a five-digit zip code of the city"),
    (
        "enrollment_status",
        "an enrollment status type: pending, partially_submitted, complete, approved, needs_attention, unprocessable or cancelled",
    ),
    ("now", "the current time, RFC 3339"),
    ("datetime", "an RFC 3339 time in the last 30 days"),
    ("timestamp", "the current time in Unix seconds (a number when whole)"),
    ("date", "a YYYY-MM-DD date in the last 30 days"),
    ("past_date", "a YYYY-MM-DD date 1 to 10 years ago"),
    ("future_date", "a YYYY-MM-DD date 1 to 60 days ahead"),
    ("birth_date", "a YYYY-MM-DD date 22 to 60 years ago"),
    ("event_type", "the name of the event type being built"),
    (
        "data",
        "envelope only: the rendered data (the value itself when whole, its JSON text inside a longer string)",
    ),
];

const DATA: &str = "data";

/// A parsed template value.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// null, a boolean or a number, copied as is.
    Scalar(serde_json::Value),
    /// A string made of text and placeholders.
    Text(Vec<Piece>),
    Array(Vec<Node>),
    /// Keys in template order.
    Object(Vec<(String, Node)>),
}

/// Part of a string template.
#[derive(Clone, Debug)]
pub(crate) enum Piece {
    Text(String),
    /// A name from [`PLACEHOLDERS`].
    Placeholder(&'static str),
}

/// What the placeholders that are not fake values stand for.
pub(crate) struct Context<'a> {
    pub event_type: &'a str,
    /// The rendered data as JSON text (only while rendering an envelope).
    pub data_json: Option<&'a str>,
}

impl Node {
    /// Whether a string that is exactly `{{data}}` appears somewhere.
    pub(crate) fn has_whole_data(&self) -> bool {
        match self {
            Node::Text(p) => matches!(p.as_slice(), [Piece::Placeholder(DATA)]),
            Node::Array(items) => items.iter().any(Node::has_whole_data),
            Node::Object(fields) => fields.iter().any(|(_, v)| v.has_whole_data()),
            Node::Scalar(_) => false,
        }
    }

    /// Writes this template as compact JSON, keys in template order.
    pub(crate) fn render(&self, faker: &mut Faker, cx: &Context<'_>, out: &mut String) {
        match self {
            Node::Scalar(v) => out.push_str(&v.to_string()),
            Node::Text(pieces) => match pieces.as_slice() {
                [Piece::Placeholder(name)] => out.push_str(&whole(name, faker, cx)),
                _ => {
                    let mut text = String::new();
                    for piece in pieces {
                        match piece {
                            Piece::Text(t) => text.push_str(t),
                            Piece::Placeholder(name) => text.push_str(&inline(name, faker, cx)),
                        }
                    }
                    out.push_str(&json_string(&text));
                }
            },
            Node::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.render(faker, cx, out);
                }
                out.push(']');
            }
            Node::Object(fields) => {
                let saved = faker.enter_object();
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&json_string(key));
                    out.push(':');
                    value.render(faker, cx, out);
                }
                out.push('}');
                faker.leave_object(saved);
            }
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// A placeholder that is a whole string value, as JSON: numbers and booleans stay typed.
fn whole(name: &str, f: &mut Faker, cx: &Context<'_>) -> String {
    match name {
        "int" => f.int().to_string(),
        "amount" => f.amount().to_string(),
        "bool" => f.bool().to_string(),
        "timestamp" => f.timestamp().to_string(),
        DATA => cx.data_json.unwrap_or("null").to_owned(),
        _ => json_string(&inline(name, f, cx)),
    }
}

/// A placeholder inside a longer string, as text.
fn inline(name: &str, f: &mut Faker, cx: &Context<'_>) -> String {
    match name {
        "uuid" => f.uuid(),
        "int" => f.int().to_string(),
        "amount" => f.amount().to_string(),
        "bool" => f.bool().to_string(),
        "hex" => f.hex(24),
        "alnum" => f.alnum(24),
        "first_name" => f.first_name(),
        "last_name" => f.last_name(),
        "name" => f.name(),
        "email" => f.email(),
        "phone" => f.phone(),
        "company" => f.company(),
        "servicer" => f.servicer(),
        "street" => f.street(),
        "street2" => f.street2(),
        "city" => f.city(),
        "state" => f.state(),
        "zipcode" => f.zipcode(),
        "enrollment_status" => f.enrollment_status(),
        "now" => f.now_rfc3339(),
        "datetime" => f.datetime(),
        "timestamp" => f.timestamp().to_string(),
        "date" => f.date(),
        "past_date" => f.past_date(),
        "future_date" => f.future_date(),
        "birth_date" => f.birth_date(),
        "event_type" => cx.event_type.to_owned(),
        DATA => cx.data_json.unwrap_or("null").to_owned(),
        other => unreachable!("placeholder {other} was validated at parse time"),
    }
}

/// Splits a template string into text and placeholders.
pub(crate) fn parse_text(s: &str, envelope: bool) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed placeholder in {s:?}: `{{{{` without `}}}}`"))?;
        let name = after[..end].trim();
        let known =
            PLACEHOLDERS.iter().find(|(n, _)| *n == name).map(|(n, _)| *n).ok_or_else(|| {
                let names: Vec<&str> = PLACEHOLDERS
                    .iter()
                    .map(|(n, _)| *n)
                    .filter(|n| envelope || *n != DATA)
                    .collect();
                format!(
                    "unknown placeholder {{{{{name}}}}}; known placeholders: {}",
                    names.join(", ")
                )
            })?;
        if known == DATA && !envelope {
            return Err("{{data}} is only allowed in an envelope template".to_owned());
        }
        pieces.push(Piece::Placeholder(known));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(pieces)
}

/// Deserializes a [`Node`], checking placeholders as each string is read so errors carry the
/// parser's position.
#[derive(Clone, Copy)]
pub(crate) struct NodeSeed {
    pub envelope: bool,
}

impl<'de> DeserializeSeed<'de> for NodeSeed {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a template value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        serde_json::Number::from_f64(v)
            .map(|n| Node::Scalar(serde_json::Value::Number(n)))
            .ok_or_else(|| E::custom("a template number must be finite"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        parse_text(v, self.envelope).map(Node::Text).map_err(E::custom)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(serde_json::Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut fields: Vec<(String, Node)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self)?;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            fields.push((key, value));
        }
        Ok(Node::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_into_pieces_and_rejects_unknown_names() {
        let p = parse_text("evt_{{ alnum }}!", false).expect("valid");
        assert!(
            matches!(p.as_slice(), [Piece::Text(a), Piece::Placeholder("alnum"), Piece::Text(b)] if a == "evt_" && b == "!")
        );
        let e = parse_text("{{nope}}", false).expect_err("unknown");
        assert!(e.contains("unknown placeholder {{nope}}") && e.contains("uuid"), "{e}");
        assert!(parse_text("{{uuid", false).is_err());
        assert!(parse_text("{{data}}", false).is_err());
        assert!(parse_text("{{data}}", true).is_ok());
    }
}
