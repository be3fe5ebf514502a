//! The catalogue file format (JSON or TOML, see docs/sandbox.md), deserialized with checks
//! that fail at the offending entry, so the parser's error carries its line.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::Trigger;
use crate::template::{Node, NodeSeed};

/// The file format (see docs/sandbox.md).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CatalogFile {
    #[serde(default)]
    pub envelope: Option<EnvelopeTemplate>,
    #[serde(default)]
    pub event_types: TypeList,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TypeDoc {
    #[serde(deserialize_with = "event_name")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub trigger: Trigger,
    #[serde(default)]
    pub data: DataTemplate,
}

fn event_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    if name.is_empty()
        || name.len() > 200
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(de::Error::custom(format!(
            "invalid event type name {name:?}: it must be 1 to 200 characters without spaces"
        )));
    }
    Ok(name)
}

pub(super) struct DataTemplate(pub Node);

impl Default for DataTemplate {
    fn default() -> Self {
        DataTemplate(Node::Scalar(serde_json::Value::Null))
    }
}

impl<'de> Deserialize<'de> for DataTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NodeSeed { envelope: false }.deserialize(d).map(DataTemplate)
    }
}

pub(super) struct EnvelopeTemplate(pub Node);

impl<'de> Deserialize<'de> for EnvelopeTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let node = NodeSeed { envelope: true }.deserialize(d)?;
        if !node.has_whole_data() {
            return Err(de::Error::custom(
                "the envelope must contain a string that is exactly \"{{data}}\"",
            ));
        }
        Ok(EnvelopeTemplate(node))
    }
}

/// The `event_types` list; a name repeated within one file is an error at that entry.
#[derive(Default)]
pub(super) struct TypeList(pub Vec<TypeDoc>);

impl<'de> Deserialize<'de> for TypeList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TypeList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of event types")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TypeList, A::Error> {
                let mut types: Vec<TypeDoc> = Vec::new();
                while let Some(t) = seq.next_element::<TypeDoc>()? {
                    if types.iter().any(|old| old.name == t.name) {
                        return Err(de::Error::custom(format!(
                            "event type {:?} is defined twice in this file",
                            t.name
                        )));
                    }
                    types.push(t);
                }
                Ok(TypeList(types))
            }
        }
        d.deserialize_seq(V)
    }
}
