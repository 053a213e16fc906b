//! Checks requests and responses against a vendor's published API
//! description (Swagger 2.0 or OpenAPI 3.0), with the `jsonschema` crate as
//! the schema validator. The descriptions are JSON Schema with a few
//! OpenAPI-only words, translated here before validation: `nullable` /
//! `x-nullable`, boolean `exclusiveMinimum` / `exclusiveMaximum`, and
//! Swagger's `type: file`.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::Path;

pub struct Spec {
    pub name: &'static str,
    doc: Value,
    swagger2: bool,
    /// The path prefix the sandbox serves this vendor under.
    pub prefix: &'static str,
    validators: HashMap<String, jsonschema::Validator>,
}

/// An operation a request matched.
pub struct Matched {
    pub template: String,
    pub operation_id: String,
    op: Value,
    path_item: Value,
}

impl Spec {
    pub fn load(file: &Path, name: &'static str, prefix: &'static str) -> Self {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let mut doc: Value = if file.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            serde_yaml_ng::from_str(&text).expect("the description is valid YAML")
        } else {
            serde_json::from_str(&text).expect("the description is valid JSON")
        };
        let swagger2 = doc.get("swagger").is_some();
        to_json_schema(&mut doc);
        Self {
            name,
            doc,
            swagger2,
            prefix,
            validators: HashMap::new(),
        }
    }

    fn base_path(&self) -> &str {
        self.doc
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// Resolves a local `$ref` (any depth) to the value it names.
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        let mut v = v;
        for _ in 0..10 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    v = self
                        .doc
                        .pointer(r.trim_start_matches('#'))
                        .unwrap_or_else(|| panic!("{}: dangling $ref {r}", self.name))
                }
                None => return v,
            }
        }
        v
    }

    /// The operation for `method path` (path as the sandbox received it).
    pub fn find(&self, method: &str, path: &str) -> Result<Matched, String> {
        let rest = path
            .strip_prefix(self.prefix)
            .ok_or_else(|| format!("{path} is not under {}", self.prefix))?;
        let rest = rest.strip_prefix(self.base_path()).unwrap_or(rest);
        let segs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        let paths = self.doc["paths"].as_object().expect("paths");
        let mut best: Option<(usize, &String)> = None;
        for template in paths.keys() {
            let tsegs: Vec<&str> = template.trim_start_matches('/').split('/').collect();
            let greedy = template.ends_with("/{path}");
            let fits = if greedy {
                segs.len() >= tsegs.len()
            } else {
                segs.len() == tsegs.len()
            };
            if !fits {
                continue;
            }
            let mut literal = 0;
            let ok = tsegs.iter().zip(&segs).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !s.is_empty()
                } else if t == s {
                    literal += 1;
                    true
                } else {
                    false
                }
            });
            if ok && best.is_none_or(|(l, _)| literal > l) {
                best = Some((literal, template));
            }
        }
        let (_, template) =
            best.ok_or_else(|| format!("{} describes no path matching {rest}", self.name))?;
        let item = &paths[template.as_str()];
        let op = item
            .get(method.to_ascii_lowercase())
            .ok_or_else(|| format!("{}: {template} has no {method}", self.name))?;
        Ok(Matched {
            template: template.clone(),
            operation_id: op["operationId"].as_str().unwrap_or_default().to_string(),
            op: op.clone(),
            path_item: item.clone(),
        })
    }

    fn parameters(&self, m: &Matched) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for list in [m.path_item.get("parameters"), m.op.get("parameters")]
            .into_iter()
            .flatten()
        {
            for p in list.as_array().into_iter().flatten() {
                let p = self.resolve(p).clone();
                out.retain(|q: &Value| !(q["name"] == p["name"] && q["in"] == p["in"]));
                out.push(p);
            }
        }
        out
    }

    /// Checks the query parameters and body of a request.
    pub fn check_request(
        &mut self,
        m: &Matched,
        path: &str,
        query: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(), String> {
        let params = self.parameters(m);
        let pairs: Vec<(String, String)> = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        for (k, v) in &pairs {
            let Some(p) = params
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == k.as_str())
            else {
                return Err(format!(
                    "query parameter {k:?} is not described for {}",
                    m.operation_id
                ));
            };
            let schema = if self.swagger2 {
                p.clone()
            } else {
                self.resolve(&p["schema"]).clone()
            };
            check_scalar(&schema, v).map_err(|e| format!("query parameter {k}: {e}"))?;
        }
        for p in &params {
            let name = p["name"].as_str().unwrap_or_default();
            if p["in"] == "query" && p["required"] == true && !pairs.iter().any(|(k, _)| k == name)
            {
                return Err(format!("required query parameter {name} is missing"));
            }
        }
        // Path parameters, by position in the template.
        let rest = path.strip_prefix(self.prefix).unwrap_or(path);
        let rest = rest.strip_prefix(self.base_path()).unwrap_or(rest);
        let segs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        for (t, s) in m.template.trim_start_matches('/').split('/').zip(&segs) {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                if let Some(p) = params
                    .iter()
                    .find(|p| p["in"] == "path" && p["name"] == name)
                {
                    let schema = if self.swagger2 {
                        p.clone()
                    } else {
                        self.resolve(&p["schema"]).clone()
                    };
                    let decoded = url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    check_scalar(&schema, &decoded)
                        .map_err(|e| format!("path parameter {name}: {e}"))?;
                }
            }
        }
        // The body.
        let (body_schema, required) = if self.swagger2 {
            match params.iter().find(|p| p["in"] == "body") {
                Some(p) => (Some(p["schema"].clone()), p["required"] == true),
                None => (None, false),
            }
        } else {
            match m.op.get("requestBody").map(|b| self.resolve(b).clone()) {
                Some(b) => (
                    b.pointer("/content/application~1json/schema").cloned(),
                    b["required"] == true,
                ),
                None => (None, false),
            }
        };
        match (body_schema, body) {
            (Some(schema), Some(b)) => {
                self.validate(&format!("{} request", m.operation_id), &schema, b)
            }
            (Some(_), None) if required => Err(format!("{} requires a JSON body", m.operation_id)),
            (None, Some(b)) if !b.is_null() && b != &json!({}) => Err(format!(
                "{} takes no JSON body, but one was sent",
                m.operation_id
            )),
            _ => Ok(()),
        }
    }

    /// Checks a response's status and, when it is JSON, its body.
    pub fn check_response(
        &mut self,
        m: &Matched,
        status: u16,
        content_type: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(), String> {
        let responses = &m.op["responses"];
        let declared = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| format!("{} does not describe status {status}", m.operation_id))?;
        let declared = self.resolve(declared).clone();
        let schema = if self.swagger2 {
            declared.get("schema").cloned()
        } else {
            let content = declared.get("content").and_then(Value::as_object);
            content.and_then(|c| {
                let mime = content_type
                    .map(|t| t.split(';').next().unwrap_or(t).trim().to_string())
                    .unwrap_or_default();
                c.get(&mime)
                    .or_else(|| c.get("application/json"))
                    .or_else(|| c.values().next())
                    .and_then(|v| v.get("schema").cloned())
            })
        };
        match (schema, body) {
            (Some(s), Some(b)) => {
                self.validate(&format!("{} {status} response", m.operation_id), &s, b)
            }
            (Some(_), None) if content_type.is_some_and(|t| t.contains("json")) => Err(format!(
                "{} {status}: the JSON body did not parse",
                m.operation_id
            )),
            _ => Ok(()),
        }
    }

    fn validate(&mut self, what: &str, schema: &Value, instance: &Value) -> Result<(), String> {
        let key = schema.to_string();
        if !self.validators.contains_key(&key) {
            let mut root = Map::new();
            root.insert("$ref".into(), json!("#/x-target"));
            root.insert("x-target".into(), schema.clone());
            for k in ["definitions", "components"] {
                if let Some(v) = self.doc.get(k) {
                    root.insert(k.into(), v.clone());
                }
            }
            let v = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&Value::Object(root))
                .map_err(|e| {
                    format!("{}: the schema for {what} does not compile: {e}", self.name)
                })?;
            self.validators.insert(key.clone(), v);
        }
        let validator = &self.validators[&key];
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("{e} (at {})", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}: {what} violates the description: {}",
                self.name,
                errors.join("; ")
            ))
        }
    }
}

/// A query or path value against a scalar schema.
fn check_scalar(schema: &Value, v: &str) -> Result<(), String> {
    let ty = schema.get("type").and_then(|t| match t {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|s| *s != "null"),
        _ => None,
    });
    match ty {
        Some("integer") if v.parse::<i64>().is_err() => {
            return Err(format!("{v:?} is not an integer"))
        }
        Some("number") if v.parse::<f64>().is_err() => {
            return Err(format!("{v:?} is not a number"))
        }
        Some("boolean") if v != "true" && v != "false" => {
            return Err(format!("{v:?} is not a boolean"))
        }
        _ => {}
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        if !choices
            .iter()
            .any(|c| c.as_str() == Some(v) || v.parse::<Value>().is_ok_and(|p| &p == c))
        {
            return Err(format!("{v:?} is not one of {choices:?}"));
        }
    }
    Ok(())
}

/// OpenAPI's schema dialect to JSON Schema 2020-12, in place.
fn to_json_schema(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(to_json_schema),
        Value::Object(map) => {
            for val in map.values_mut() {
                to_json_schema(val);
            }
            for (flag, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(b)) = map.get(flag).cloned() {
                    map.remove(flag);
                    if b {
                        if let Some(n) = map.remove(bound) {
                            map.insert(flag.into(), n);
                        }
                    }
                }
            }
            if map.get("type") == Some(&json!("file")) {
                map.remove("type");
            }
            let mut nullable = false;
            for key in ["nullable", "x-nullable"] {
                // Only the keyword: a property may be *named* "nullable".
                if let Some(Value::Bool(b)) = map.get(key).cloned() {
                    map.remove(key);
                    nullable |= b;
                }
            }
            if nullable {
                match map.get("type").cloned() {
                    Some(Value::String(t)) => {
                        map.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(e)) = map.get_mut("enum") {
                            e.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([inner, { "type": "null" }]));
                    }
                }
            }
        }
        _ => {}
    }
}
