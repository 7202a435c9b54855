//! The wire, behind a small trait so that the simulation can inject faults.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::StatusCode;
use todoke_protocol::{ErrorBody, PullRequest, PullResponse, PushRequest, PushResponse, RefreshRequest, TokenResponse};

/// Why one request failed.
#[derive(Debug, Clone, PartialEq)]
pub enum TransportError {
    /// No answer (connection refused or reset, time-out, lost response):
    /// the request may or may not have been applied. Retried.
    Network(String),
    /// 429 / 503: retried after `retry_after` (or the back-off).
    Busy { retry_after: Option<Duration> },
    /// 5xx: retried.
    Server(String),
    /// 401: the sign-in is no longer valid.
    Unauthorized,
    /// Any other 4xx: this request will never succeed as it is.
    Refused(ErrorBody),
}

impl TransportError {
    pub fn is_transient(&self) -> bool {
        matches!(self, TransportError::Network(_) | TransportError::Busy { .. } | TransportError::Server(_))
    }
}

/// Push and pull, and a pause between retries (the simulation does not sleep).
pub trait Transport {
    async fn push(&self, req: &PushRequest) -> Result<PushResponse, TransportError>;
    async fn pull(&self, req: &PullRequest) -> Result<PullResponse, TransportError>;
    async fn pause(&self, d: Duration) {
        tokio::time::sleep(d).await
    }
    /// Starts a pull that runs on its own task, so that the engine applies
    /// one page while the next one travels and is parsed. `None`: this
    /// transport pulls only in turn. A failure here is never final: the
    /// engine pulls the page again in turn (with its retries and sign-in).
    fn pull_ahead(&self, req: &PullRequest) -> Option<PullAhead> {
        let _ = req;
        None
    }
}

/// A pull under way on its own task.
pub type PullAhead = tokio::task::JoinHandle<Result<PullResponse, TransportError>>;

/// HTTPS (or loopback HTTP) with reqwest + rustls. Holds the access token;
/// on 401 it uses the refresh token once and repeats the request. Refresh
/// tokens rotate: the caller keeps [`HttpTransport::refresh_token`] after use.
pub struct HttpTransport {
    client: reqwest::Client,
    base: String,
    device_id: String,
    tokens: Mutex<(Option<String>, Option<String>)>,
    refreshed: Mutex<Option<TokenResponse>>,
}

impl HttpTransport {
    /// `timeout`: per request; a slow line fails the request, which is retried,
    /// never the whole download.
    pub fn new(
        base: &str,
        device_id: &str,
        access_token: Option<String>,
        refresh_token: Option<String>,
        timeout: Duration,
    ) -> Result<HttpTransport, TransportError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| TransportError::Network(e.to_string()))?;
        Ok(HttpTransport {
            client,
            base: base.trim_end_matches('/').to_string(),
            device_id: device_id.to_string(),
            tokens: Mutex::new((access_token, refresh_token)),
            refreshed: Mutex::new(None),
        })
    }

    /// The current refresh token (a new one after a refresh).
    pub fn refresh_token(&self) -> Option<String> {
        self.tokens.lock().expect("token lock").1.clone()
    }

    /// The tokens of the last refresh made while in use (to keep them).
    pub fn last_refresh(&self) -> Option<TokenResponse> {
        self.refreshed.lock().expect("token lock").clone()
    }

    /// Trades the refresh token for a new access token (and a new refresh token).
    pub async fn refresh_now(&self) -> Result<TokenResponse, TransportError> {
        self.refresh().await
    }

    fn access(&self) -> Option<String> {
        self.tokens.lock().expect("token lock").0.clone()
    }

    async fn refresh(&self) -> Result<TokenResponse, TransportError> {
        let refresh = self.tokens.lock().expect("token lock").1.clone().ok_or(TransportError::Unauthorized)?;
        let req = RefreshRequest { refresh_token: refresh, device_id: self.device_id.clone() };
        let res = self.client.post(format!("{}/api/auth/refresh", self.base)).json(&req).send().await.map_err(net)?;
        let tokens: TokenResponse = read(res).await?;
        *self.tokens.lock().expect("token lock") = (Some(tokens.access_token.clone()), Some(tokens.refresh_token.clone()));
        *self.refreshed.lock().expect("token lock") = Some(tokens.clone());
        Ok(tokens)
    }

    async fn with_auth<T: serde::de::DeserializeOwned>(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, TransportError> {
        if self.access().is_none() {
            self.refresh().await?;
        }
        for attempt in 0..2 {
            let token = self.access().unwrap_or_default();
            let res = build(&self.client).bearer_auth(token).send().await.map_err(net)?;
            if res.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                self.refresh().await?;
                continue;
            }
            return read(res).await;
        }
        Err(TransportError::Unauthorized)
    }
}

fn net(e: reqwest::Error) -> TransportError {
    // Only the kind of failure: a URL may carry nothing personal, but keep logs plain.
    let what = if e.is_timeout() {
        "time-out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response cut off"
    } else {
        "network error"
    };
    TransportError::Network(what.into())
}

/// Reads a response: the body on 2xx, else the error it stands for.
async fn read<T: serde::de::DeserializeOwned>(res: reqwest::Response) -> Result<T, TransportError> {
    let status = res.status();
    if status.is_success() {
        return res.json::<T>().await.map_err(net);
    }
    let retry_after =
        res.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let body: Option<ErrorBody> = res.json().await.ok();
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            TransportError::Busy { retry_after: retry_after.map(Duration::from_secs) }
        }
        StatusCode::UNAUTHORIZED => TransportError::Unauthorized,
        s if s.is_server_error() => TransportError::Server(format!("HTTP {}", s.as_u16())),
        s => TransportError::Refused(body.unwrap_or(ErrorBody {
            code: format!("http_{}", s.as_u16()),
            message_ja: format!("サーバーが要求を拒否しました（HTTP {}）。", s.as_u16()),
            message_en: format!("The server refused the request (HTTP {}).", s.as_u16()),
        })),
    })
}

impl Transport for HttpTransport {
    async fn push(&self, req: &PushRequest) -> Result<PushResponse, TransportError> {
        let url = format!("{}/api/sync/push", self.base);
        self.with_auth(|c| c.post(&url).json(req)).await
    }

    async fn pull(&self, req: &PullRequest) -> Result<PullResponse, TransportError> {
        let url = format!("{}/api/sync/pull", self.base);
        let query = pull_query(req);
        self.with_auth(|c| c.get(&url).query(&query)).await
    }

    fn pull_ahead(&self, req: &PullRequest) -> Option<PullAhead> {
        let token = self.access()?;
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let request = self.client.get(format!("{}/api/sync/pull", self.base)).query(&pull_query(req)).bearer_auth(token);
        Some(runtime.spawn(async move { read(request.send().await.map_err(net)?).await }))
    }
}

fn pull_query(req: &PullRequest) -> Vec<(&'static str, String)> {
    let mut query = Vec::new();
    if let Some(c) = &req.cursor {
        query.push(("cursor", c.clone()));
    }
    if let Some(l) = req.limit {
        query.push(("limit", l.to_string()));
    }
    query
}

/// Signs in (no token needed).
pub(crate) async fn post_login(
    base: &str,
    req: &todoke_protocol::LoginRequest,
    timeout: Duration,
) -> Result<TokenResponse, TransportError> {
    let client = reqwest::Client::builder().timeout(timeout).build().map_err(|e| TransportError::Network(e.to_string()))?;
    let res = client.post(format!("{}/api/auth/login", base.trim_end_matches('/'))).json(req).send().await.map_err(net)?;
    read(res).await
}
