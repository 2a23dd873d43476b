//! `webapp/wire.d.ts`, the web app's TypeScript view of `shared::wire`, is generated from the
//! Rust source of the wire entities and must match it: this test fails when it is stale.
//! `STARLING_WIRE_TS=write cargo test -p shared --test wire_ts` rewrites it.
//!
//! The generator reads the source rather than the types (no derive, no dependency): it knows the
//! shapes `shared::wire` uses — structs with named `pub` fields, unit-variant enums, the serde
//! attributes `rename`, `rename_all` (`lowercase`, `camelCase`), `flatten` and
//! `skip_serializing_if` — and panics on anything else, so a new shape cannot be skipped silently.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

const SOURCES: &[&str] = &["src/wire.rs", "src/wire/admin.rs", "src/wire/filters.rs", "src/wire/instance.rs", "src/wire/starling.rs"];

#[derive(Default)]
struct Attrs {
    rename: Option<String>,
    rename_all: Option<String>,
    optional: bool,
    flatten: bool,
}

fn parse_attrs(line: &str, attrs: &mut Attrs) {
    let Some(inner) = line.strip_prefix("#[serde(").and_then(|l| l.strip_suffix(")]")) else { return };
    for part in inner.split(", ") {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("rename = ") {
            attrs.rename = Some(v.trim_matches('"').to_owned());
        } else if let Some(v) = part.strip_prefix("rename_all = ") {
            attrs.rename_all = Some(v.trim_matches('"').to_owned());
        } else if part.starts_with("skip_serializing_if") {
            attrs.optional = true;
        } else if part == "flatten" {
            attrs.flatten = true;
        } else if part.starts_with("deserialize_with") {
            // Reading only: the shape written is the field's type.
        } else if part != "default" {
            panic!("serde attribute the generator does not know: {part}");
        }
    }
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The TypeScript type of a Rust field type; records the named types it refers to.
fn ts_type(rust: &str, used: &mut BTreeSet<String>) -> String {
    let rust = rust.trim();
    let generic = |prefix: &str| rust.strip_prefix(prefix).and_then(|r| r.strip_suffix('>'));
    if let Some(inner) = generic("Option<") {
        return format!("{} | null", ts_type(inner, used));
    }
    if let Some(inner) = generic("Vec<") {
        let t = ts_type(inner, used);
        return if t.contains(' ') { format!("({t})[]") } else { format!("{t}[]") };
    }
    if let Some(inner) = generic("Box<") {
        return ts_type(inner, used);
    }
    if let Some(inner) = generic("BTreeMap<String, ").or_else(|| generic("HashMap<String, ")) {
        return format!("Record<string, {}>", ts_type(inner, used));
    }
    match rust {
        "String" | "Id" | "&'static str" => "string".to_owned(),
        "bool" => "boolean".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" | "f32" | "f64" => "number".to_owned(),
        "serde_json::Value" => "unknown".to_owned(),
        name if name.chars().all(|c| c.is_ascii_alphanumeric()) && name.starts_with(|c: char| c.is_ascii_uppercase()) => {
            used.insert(name.to_owned());
            name.to_owned()
        }
        other => panic!("field type the generator does not know: {other}"),
    }
}

fn doc_comment(out: &mut String, docs: &[String], indent: &str) {
    match docs {
        [] => {}
        [one] => {
            let _ = writeln!(out, "{indent}/** {one} */");
        }
        many => {
            let _ = writeln!(out, "{indent}/**");
            for line in many {
                let _ = writeln!(out, "{indent} * {line}");
            }
            let _ = writeln!(out, "{indent} */");
        }
    }
}

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = String::from(
        "// Generated from shared::wire (the Rust wire entities) by shared/tests/wire_ts.rs; do not edit.\n\
         // Regenerate: STARLING_WIRE_TS=write cargo test -p shared --test wire_ts\n\n",
    );
    let mut defined = BTreeSet::new();
    let mut used = BTreeSet::new();
    for source in SOURCES {
        let text = std::fs::read_to_string(root.join(source)).unwrap();
        let mut docs: Vec<String> = Vec::new();
        let mut attrs = Attrs::default();
        // Inside an item: (is_enum, rename_all of the item).
        let mut item: Option<(bool, Option<String>)> = None;
        for raw in text.lines() {
            let line = raw.trim();
            if line.starts_with("#[cfg(test)]") {
                break;
            }
            if let Some(doc) = line.strip_prefix("///") {
                docs.push(doc.trim().replace("*/", "* /"));
                continue;
            }
            if line.starts_with("#[serde(") {
                parse_attrs(line, &mut attrs);
                continue;
            }
            if line.starts_with("#[") || line.starts_with("//") || line.is_empty() {
                continue;
            }
            match &item {
                None => {
                    let decl = line.strip_prefix("pub struct ").map(|r| (false, r)).or_else(|| line.strip_prefix("pub enum ").map(|r| (true, r)));
                    if let Some((is_enum, rest)) = decl {
                        let name = rest.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap().to_owned();
                        doc_comment(&mut out, &docs, "");
                        defined.insert(name.clone());
                        if rest.ends_with("{}") {
                            let _ = writeln!(out, "export type {name} = Record<string, never>;\n");
                        } else {
                            assert!(rest.ends_with('{'), "item shape the generator does not know: {line}");
                            if is_enum {
                                let _ = write!(out, "export type {name} =");
                            } else {
                                let _ = writeln!(out, "export interface {name} {{");
                            }
                            item = Some((is_enum, attrs.rename_all.take()));
                        }
                    }
                    docs.clear();
                    attrs = Attrs::default();
                }
                Some((is_enum, rename_all)) => {
                    if line == "}" {
                        out.push_str(if *is_enum { ";\n\n" } else { "}\n\n" });
                        item = None;
                    } else if *is_enum {
                        let variant = line.strip_suffix(',').unwrap_or(line);
                        assert!(variant.chars().all(|c| c.is_ascii_alphanumeric()), "enum variant the generator does not know: {line}");
                        let name = attrs.rename.take().unwrap_or_else(|| match rename_all.as_deref() {
                            Some("lowercase") => variant.to_lowercase(),
                            None => variant.to_owned(),
                            Some(other) => panic!("rename_all = {other} on an enum"),
                        });
                        let _ = write!(out, "\n  | \"{name}\"");
                    } else {
                        let field = line.strip_prefix("pub ").unwrap_or_else(|| panic!("field the generator does not know: {line}"));
                        let (name, ty) = field.split_once(": ").unwrap_or_else(|| panic!("field the generator does not know: {line}"));
                        let ty = ty.strip_suffix(',').unwrap_or(ty);
                        let ts = ts_type(ty, &mut used);
                        if attrs.flatten {
                            // `interface X {` becomes `interface X extends T {`.
                            let open = out.rfind(" {\n").unwrap();
                            out.insert_str(open, &format!(" extends {ts}"));
                        } else {
                            let key = attrs.rename.take().unwrap_or_else(|| match rename_all.as_deref() {
                                Some("camelCase") => camel(name),
                                None => name.to_owned(),
                                Some(other) => panic!("rename_all = {other} on a struct"),
                            });
                            let key = if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') { key } else { format!("\"{key}\"") };
                            doc_comment(&mut out, &docs, "  ");
                            let _ = writeln!(out, "  {key}{}: {ts};", if attrs.optional { "?" } else { "" });
                        }
                    }
                    docs.clear();
                    attrs = Attrs::default();
                }
            }
        }
    }
    let missing: Vec<_> = used.difference(&defined).collect();
    assert!(missing.is_empty(), "types used but not defined in shared::wire: {missing:?}");
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn the_web_app_types_match_the_wire_entities() {
    let generated = generate();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../webapp/wire.d.ts");
    if std::env::var("STARLING_WIRE_TS").as_deref() == Ok("write") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(current == generated, "webapp/wire.d.ts is stale: regenerate it with STARLING_WIRE_TS=write cargo test -p shared --test wire_ts");
}

#[test]
fn the_generator_maps_the_shapes_it_knows() {
    let ts = generate();
    assert!(ts.contains("export interface Status {"));
    assert!(ts.contains("  id: string;"), "ids are strings on the wire");
    assert!(ts.contains("  reblog: Status | null;"), "Option<Box<Status>>");
    assert!(ts.contains("  favourited?: boolean | null;"), "skip_serializing_if makes a key optional");
    assert!(ts.contains("  type: string;"), "rename");
    assert!(ts.contains("export interface MutedAccount extends Account {"), "flatten");
    assert!(ts.contains("  | \"unlisted\""), "rename_all = lowercase on an enum");
    assert!(ts.contains("  media_attachments: MediaAttachment[];"));
}
