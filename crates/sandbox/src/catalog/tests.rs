//! Unit tests for the catalogue: the built-in profile, generated shapes, loader errors and
//! merging.

use std::io::Write as _;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::*;

pub(crate) fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
}

fn is_ymd(s: &str) -> bool {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

fn faker() -> Faker {
    Faker::with_seed(42, time::macros::datetime!(2026-11-26 12:00:00 UTC))
}

fn load(text: &str, format: Format) -> Result<Catalog, CatalogError> {
    let mut c = Catalog::builtin();
    c.merge_str(text, format, "my.catalog")?;
    Ok(c)
}

fn invalid(r: Result<Catalog, CatalogError>) -> (usize, String) {
    match r {
        Err(CatalogError::Invalid { origin, line, message, .. }) => {
            assert_eq!(origin, "my.catalog");
            (line, message)
        }
        other => panic!("expected an invalid-catalogue error, got {other:?}"),
    }
}

#[test]
fn builtin_types_have_documented_triggers() {
    let c = Catalog::builtin();
    let got: Vec<(&str, Trigger)> = c.types().iter().map(|t| (t.name(), t.trigger())).collect();
    assert_eq!(
        got,
        [
            ("test", Trigger::Production),
            ("connectivity.interrupted", Trigger::Sandbox),
            ("connectivity.restored", Trigger::Sandbox),
            ("borrower.delinquent", Trigger::Never),
        ]
    );
    assert!(c.types().iter().all(|t| t.origin() == BUILTIN_ORIGIN && !t.description().is_empty()));
    assert_eq!(c.triggerable(Mode::Production), ["test"]);
    assert_eq!(
        c.triggerable(Mode::Sandbox),
        ["test", "connectivity.interrupted", "connectivity.restored"]
    );
}

#[test]
fn test_event_is_the_documented_envelope_with_null_data() {
    let e = Catalog::builtin().build("test", &mut faker()).expect("known");
    assert_eq!(e.body, br#"{"event_type":"test","data":null}"#);
}

#[test]
fn connectivity_events_carry_two_uuids() {
    let c = Catalog::builtin();
    for name in ["connectivity.interrupted", "connectivity.restored"] {
        let v = c.build(name, &mut faker()).expect("known").to_value();
        assert_eq!(v["event_type"], name);
        let data = v["data"].as_object().expect("object");
        assert_eq!(data.len(), 2);
        assert!(is_uuid(data["borrower_id"].as_str().expect("string")));
        assert!(is_uuid(data["servicer_id"].as_str().expect("string")));
        assert_ne!(data["borrower_id"], data["servicer_id"]);
    }
}

#[test]
fn delinquent_borrower_has_the_documented_shapes() {
    let v =
        Catalog::builtin().build("borrower.delinquent", &mut faker()).expect("known").to_value();
    let b = &v["data"]["borrower"];
    assert!(b["id"].is_u64());
    assert!(is_uuid(b["uuid"].as_str().expect("uuid")));
    assert!(is_ymd(b["date_of_birth"].as_str().expect("date")));
    assert!(is_ymd(b["employer_start_date"].as_str().expect("date")));
    OffsetDateTime::parse(b["created_at"].as_str().expect("time"), &Rfc3339).expect("RFC 3339");
    assert!(b["collecting_unemployment"].is_boolean());
    let email = b["email"].as_str().expect("email");
    let first = b["first_name"].as_str().expect("name").to_lowercase();
    assert!(email.starts_with(&first) && email.ends_with("@example.com"), "{email}");
    for addr in [&b["address"], &v["data"]["servicer"]["address"]] {
        assert_eq!(addr["state"].as_str().expect("state").len(), 2);
        let zip = addr["zipcode"].as_str().expect("zip");
        assert!(zip.len() == 5 && zip.chars().all(|c| c.is_ascii_digit()));
        assert!(!addr["street1"].as_str().expect("street").is_empty());
    }
    assert!(is_uuid(v["data"]["servicer"]["id"].as_str().expect("uuid")));
}

#[test]
fn whole_placeholders_keep_their_type_and_inline_ones_become_text() {
    let c = load(
        r#"{"event_types": [{"name": "x.y", "data": {"n": "{{int}}", "b": "{{bool}}",
            "label": "id-{{int}}", "at": "{{now}}", "status": "{{enrollment_status}}",
            "t": "{{event_type}}", "list": ["{{timestamp}}", 1.5, null]}}]}"#,
        Format::Json,
    )
    .expect("valid");
    let v = c.build("x.y", &mut faker()).expect("known").to_value();
    let d = &v["data"];
    assert!(d["n"].is_u64() && d["b"].is_boolean());
    assert!(d["label"].as_str().expect("text").starts_with("id-"));
    assert_eq!(d["at"], "2026-11-26T12:00:00Z");
    assert!(crate::faker::ENROLLMENT_STATUSES.contains(&d["status"].as_str().expect("status")));
    assert_eq!(d["t"], "x.y");
    assert_eq!(d["list"], serde_json::json!([1_795_694_400, 1.5, null]));
}

#[test]
fn file_types_override_builtin_ones_and_new_ones_are_appended() {
    let c = load(
        r#"
[[event_types]]
name = "test"
description = "my own test"
trigger = "never"

[[event_types]]
name = "enrollment.updated"
description = "made up for this test"
data = { id = "{{int}}", status = { type = "{{enrollment_status}}" } }
"#,
        Format::Toml,
    )
    .expect("valid");
    let names: Vec<&str> = c.types().iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "test",
            "connectivity.interrupted",
            "connectivity.restored",
            "borrower.delinquent",
            "enrollment.updated"
        ]
    );
    let t = c.get("test").expect("present");
    assert_eq!(
        (t.description(), t.trigger(), t.origin()),
        ("my own test", Trigger::Never, "my.catalog")
    );
    let added = c.get("enrollment.updated").expect("present");
    assert_eq!(added.trigger(), Trigger::Sandbox, "sandbox is the default");
    let v = c.build("enrollment.updated", &mut faker()).expect("known").to_value();
    assert!(v["data"]["id"].is_u64() && v["data"]["status"]["type"].is_string());
}

#[test]
fn a_file_envelope_wraps_only_that_files_types() {
    let c = load(
        r#"{
  "envelope": {"id": "evt_{{alnum}}", "type": "{{event_type}}", "data": {"object": "{{data}}"}},
  "event_types": [{"name": "charge.succeeded", "data": {"amount": "{{amount}}"}}]
}"#,
        Format::Json,
    )
    .expect("valid");
    let v = c.build("charge.succeeded", &mut faker()).expect("known").to_value();
    assert_eq!(v["type"], "charge.succeeded");
    assert!(v["data"]["object"]["amount"].is_u64());
    assert_eq!(v["id"].as_str().expect("id").len(), 28);
    let body = c.build("charge.succeeded", &mut faker()).expect("known").body;
    assert!(body.starts_with(br#"{"id":"evt_"#), "template order is kept");
    let test = c.build("test", &mut faker()).expect("known");
    assert_eq!(test.body, br#"{"event_type":"test","data":null}"#);
    let given = c.build_with_data("charge.succeeded", &serde_json::json!({"x": 1}), &mut faker());
    assert_eq!(given.to_value()["data"]["object"], serde_json::json!({"x": 1}));
}

#[test]
fn unknown_placeholder_in_json_names_its_line() {
    let text = "{\n  \"event_types\": [\n    {\"name\": \"a.b\",\n     \"data\": {\"x\": \"{{uuid}}\",\n              \"y\": \"{{nope}}\"}}\n  ]\n}\n";
    let (line, message) = invalid(load(text, Format::Json));
    assert_eq!(line, 5);
    assert!(message.contains("unknown placeholder {{nope}}"), "{message}");
}

#[test]
fn unknown_placeholder_in_toml_names_its_line() {
    let text = "[[event_types]]\nname = \"a.b\"\n\n[event_types.data]\nx = \"{{uuid}}\"\ny = \"id-{{nope}}\"\n";
    let (line, message) = invalid(load(text, Format::Toml));
    assert_eq!(line, 6);
    assert!(message.contains("unknown placeholder {{nope}}"), "{message}");
}

#[test]
fn syntax_errors_name_their_line() {
    assert_eq!(invalid(load("{\n\"event_types\": [\n}", Format::Json)).0, 3);
    assert_eq!(invalid(load("[[event_types]]\nname = \"a\"\ntrigger = \n", Format::Toml)).0, 3);
}

#[test]
fn schema_errors_name_their_line() {
    let (line, message) =
        invalid(load("[[event_types]]\nname = \"a.b\"\ntrigger = \"sometimes\"\n", Format::Toml));
    assert_eq!(line, 3);
    assert!(message.contains("sometimes"), "{message}");

    let (line, message) = invalid(load("{\"event_types\": [],\n \"colour\": 1}", Format::Json));
    assert_eq!(line, 2);
    assert!(message.contains("colour"), "{message}");

    let (line, message) = invalid(load(
        "{\"event_types\": [\n {\"name\": \"a\"},\n {\"name\": \"a\"}]}",
        Format::Json,
    ));
    assert_eq!(line, 3);
    assert!(message.contains("defined twice"), "{message}");

    let (_, message) =
        invalid(load("{\"event_types\": [{\"name\": \"has space\"}]}", Format::Json));
    assert!(message.contains("invalid event type name"), "{message}");

    let (_, message) = invalid(load("{\"envelope\": {\"x\": 1}}", Format::Json));
    assert!(message.contains("{{data}}"), "{message}");

    let (_, message) = invalid(load(
        "{\"event_types\": [{\"name\": \"a\", \"data\": \"{{data}}\"}]}",
        Format::Json,
    ));
    assert!(message.contains("only allowed in an envelope"), "{message}");
}

#[test]
fn file_errors_name_the_file_and_line() {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().expect("temp file");
    write!(file, "[[event_types]]\nname = \"a.b\"\ndata = {{ x = \"{{{{bogus}}}}\" }}\n")
        .expect("write");
    let err = Catalog::load_file(file.path()).expect_err("bad placeholder");
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("{}:3:", file.path().display())), "{shown}");
    assert!(shown.contains("{{bogus}}"), "{shown}");

    let missing = Catalog::load_file(Path::new("/nonexistent/x.toml")).expect_err("missing");
    assert!(missing.to_string().contains("/nonexistent/x.toml"), "{missing}");
}

#[test]
fn format_is_detected_by_extension_then_content() {
    assert_eq!(Format::detect(Path::new("a.JSON"), ""), Format::Json);
    assert_eq!(Format::detect(Path::new("a.toml"), "{"), Format::Toml);
    assert_eq!(Format::detect(Path::new("a.catalog"), "  {}"), Format::Json);
    assert_eq!(Format::detect(Path::new("a"), "[[event_types]]"), Format::Toml);
}

#[test]
fn the_shipped_example_catalogue_loads() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/stripe-style.catalog.toml");
    let c = Catalog::load_file(&path).expect("the example is valid");
    let extra: Vec<&EventType> =
        c.types().iter().filter(|t| t.origin() != BUILTIN_ORIGIN).collect();
    assert!(extra.len() >= 3);
    for t in extra {
        let v = c.build(t.name(), &mut faker()).expect("known").to_value();
        assert_eq!(v["type"], t.name());
        assert!(v["data"]["object"].is_object());
    }
}

#[test]
fn toml_templates_keep_their_key_order() {
    let c = load(
        "[[event_types]]\nname = \"a.b\"\n[event_types.data]\nzeta = 1\nalpha = 2\nmid = { y = 1, b = 2 }\n",
        Format::Toml,
    )
    .expect("valid");
    let e = c.build("a.b", &mut faker()).expect("known");
    assert_eq!(e.body, br#"{"event_type":"a.b","data":{"zeta":1,"alpha":2,"mid":{"y":1,"b":2}}}"#);
}
