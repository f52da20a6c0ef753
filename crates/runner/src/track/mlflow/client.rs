//! MLflow's REST API (`/api/2.0/mlflow/…` and the artifact proxy `/api/2.0/mlflow-artifacts/…`)
//! over HTTP: each call bounded in time and retried a few times when the server does not answer
//! or answers 5xx/429; its refusals (4xx) said with MLflow's own error code.

use std::time::Duration;

use serde_json::Value;

/// What a call to the server can end with besides an answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No answer (refused connection, timeout, 5xx) after every try.
    #[error("MLflow at {uri} did not answer: {why}")]
    Unreachable { uri: String, why: String },
    /// The server refused the call.
    #[error("MLflow refused {what}: {code} {message}")]
    Refused {
        what: String,
        code: String,
        message: String,
    },
}

impl CallError {
    /// Whether the server said the thing asked for does not exist.
    pub fn not_found(&self) -> bool {
        matches!(self, CallError::Refused { code, .. } if code == "RESOURCE_DOES_NOT_EXIST")
    }
}

/// A tracking server's address, checked: `http://host[:port][/path]` or `https://…`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingUri(String);

impl TrackingUri {
    /// Parses `uri`; `Err` says why it cannot be a tracking server's address, and the fix.
    pub fn parse(uri: &str) -> Result<Self, String> {
        let trimmed = uri.trim().trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("http://")
            .or_else(|| trimmed.strip_prefix("https://"));
        let Some(rest) = rest else {
            return Err(format!(
                "'{uri}' is not an MLflow tracking server's address: lrsweep speaks MLflow's REST API, so give the server's http:// or https:// address (start one with `mlflow server --host 127.0.0.1 --port 5000`, then --mlflow http://127.0.0.1:5000)"
            ));
        };
        let host = rest.split('/').next().unwrap_or_default();
        let (name, port) = match host.rsplit_once(':') {
            Some((n, p)) if !n.ends_with(']') || host.starts_with('[') => (n, Some(p)),
            _ => (host, None),
        };
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._[]:".contains(c));
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
        if !name_ok || !port_ok || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "'{uri}' is not a valid address: write it as http://HOST:PORT (e.g. http://127.0.0.1:5000)"
            ));
        }
        Ok(Self(trimmed.to_string()))
    }
}

impl std::fmt::Display for TrackingUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a call is tried: how long each may take, and the pauses between tries.
#[derive(Debug, Clone)]
pub struct Patience {
    pub timeout: Duration,
    pub pauses: Vec<Duration>,
}

impl Patience {
    /// While training: a few seconds a call, three tries; a server that does not answer costs
    /// the background worker well under a minute, never the training.
    pub fn training() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            pauses: vec![Duration::from_millis(300), Duration::from_secs(1)],
        }
    }

    /// Up front: one short try, to say at once when the server is down.
    pub fn probe() -> Self {
        Self {
            timeout: Duration::from_secs(3),
            pauses: Vec::new(),
        }
    }
}

/// A client of one tracking server.
pub struct Client {
    uri: TrackingUri,
    agent: ureq::Agent,
    auth: Option<String>,
    patience: Patience,
}

/// The authorisation header MLflow's clients send: `MLFLOW_TRACKING_TOKEN` (bearer), or
/// `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD` (basic).
fn auth_from_env() -> Option<String> {
    if let Ok(token) = std::env::var("MLFLOW_TRACKING_TOKEN") {
        return Some(format!("Bearer {token}"));
    }
    let user = std::env::var("MLFLOW_TRACKING_USERNAME").ok()?;
    let password = std::env::var("MLFLOW_TRACKING_PASSWORD").unwrap_or_default();
    Some(format!(
        "Basic {}",
        crate::render::html::base64(format!("{user}:{password}").as_bytes())
    ))
}

impl Client {
    pub fn new(uri: TrackingUri, patience: Patience) -> Self {
        let agent = ureq::AgentBuilder::new().timeout(patience.timeout).build();
        Self {
            uri,
            agent,
            auth: auth_from_env(),
            patience,
        }
    }

    /// `method` on `path` (below the server's address) with a JSON `body`, or raw `bytes` for an
    /// artifact; the answer's JSON (`{}` when it has none).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        bytes: Option<&[u8]>,
    ) -> Result<Value, CallError> {
        let url = format!("{}{path}", self.uri);
        let mut last = String::new();
        for attempt in 0..=self.patience.pauses.len() {
            if attempt > 0 {
                std::thread::sleep(self.patience.pauses[attempt - 1]);
            }
            let mut request = self.agent.request(method, &url);
            if let Some(auth) = &self.auth {
                request = request.set("Authorization", auth);
            }
            let answer = match (body, bytes) {
                (Some(json), _) => request
                    .set("Content-Type", "application/json")
                    .send_string(&json.to_string()),
                (None, Some(b)) => request
                    .set("Content-Type", "application/octet-stream")
                    .send_bytes(b),
                (None, None) => request.call(),
            };
            match answer {
                Ok(r) => {
                    let text = r.into_string().unwrap_or_default();
                    return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
                }
                Err(ureq::Error::Status(code, r)) if code < 500 && code != 429 => {
                    let text = r.into_string().unwrap_or_default();
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                    return Err(CallError::Refused {
                        what: format!("{method} {path}"),
                        code: match field("error_code").as_str() {
                            "" => format!("HTTP {code}"),
                            c => c.to_string(),
                        },
                        message: match field("message").as_str() {
                            "" => text.chars().take(300).collect(),
                            m => m.to_string(),
                        },
                    });
                }
                Err(ureq::Error::Status(code, r)) => {
                    last = format!("HTTP {code} {}", r.status_text());
                }
                Err(ureq::Error::Transport(t)) => {
                    let text = t.to_string();
                    last = text
                        .strip_prefix(&format!("{url}: "))
                        .unwrap_or(&text)
                        .to_string();
                }
            }
        }
        Err(CallError::Unreachable {
            uri: self.uri.to_string(),
            why: last,
        })
    }

    /// A `POST` of `body` to `/api/2.0/mlflow/<endpoint>`.
    pub fn post(&self, endpoint: &str, body: &Value) -> Result<Value, CallError> {
        self.call(
            "POST",
            &format!("/api/2.0/mlflow/{endpoint}"),
            Some(body),
            None,
        )
    }

    /// A `GET` of `/api/2.0/mlflow/<endpoint>?<query>` (`query`'s values encoded here).
    pub fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Value, CallError> {
        let q: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        self.call(
            "GET",
            &format!("/api/2.0/mlflow/{endpoint}?{}", q.join("&")),
            None,
            None,
        )
    }
}

/// `s` percent-encoded for a URL's query or path (unreserved characters and `/` kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_addresses_are_checked() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://mlflow.example.com/",
            "http://localhost:5000/prefix",
            "http://[::1]:5000",
        ] {
            assert!(TrackingUri::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            TrackingUri::parse("http://h:5000/").unwrap().to_string(),
            "http://h:5000"
        );
        for bad in [
            "127.0.0.1:5000",
            "file:./mlruns",
            "databricks",
            "http://",
            "http://host:99999",
            "http://host:0",
            "http://ho st:5000",
        ] {
            assert!(TrackingUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("a b'c=d"), "a%20b%27c%3Dd");
        assert_eq!(encode("1/abc/artifacts"), "1/abc/artifacts");
    }
}
