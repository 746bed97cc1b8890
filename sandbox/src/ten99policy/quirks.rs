//! An optional quirk of the real API (reference §8 item 7): nested objects answered as Python
//! `repr` strings instead of JSON objects. Off by default; on, it proves clients decode both.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

/// Fields the API has been seen to stringify.
const NESTED: [&str; 5] = ["certificates", "quote_json", "eligible", "address", "custom_metadata"];

/// Rewrites the nested objects of JSON answers (objects or arrays of objects) as Python literals.
pub(crate) async fn python_repr_nested(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    match &mut value {
        Value::Array(items) => items.iter_mut().for_each(stringify_nested),
        object => stringify_nested(object),
    }
    parts.headers.remove(CONTENT_LENGTH);
    let body = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    Response::from_parts(parts, Body::from(body))
}

fn stringify_nested(object: &mut Value) {
    let Value::Object(map) = object else { return };
    for field in NESTED {
        if let Some(nested) = map.get_mut(field).filter(|v| v.is_object()) {
            *nested = Value::String(python_repr(nested));
        }
    }
}

/// How Python's `repr` prints a JSON value.
pub(crate) fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => python_str(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let entries: Vec<String> =
                map.iter().map(|(k, v)| format!("{}: {}", python_str(k), python_repr(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// Python quotes with `'` unless the text has a `'` and no `"`.
fn python_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = String::from(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn repr_matches_python() {
        let value = json!({"name": "O'Brien", "q": "say \"hi\" it's", "ok": true, "none": null, "n": [1, 2.5]});
        let repr = python_repr(&value);
        assert_eq!(repr, r#"{'n': [1, 2.5], 'name': "O'Brien", 'none': None, 'ok': True, 'q': 'say "hi" it\'s'}"#);
        let nested = python_repr(&json!({"eligible": {"result": false, "message": null}, "rates": []}));
        assert_eq!(nested, "{'eligible': {'message': None, 'result': False}, 'rates': []}");
    }
}
