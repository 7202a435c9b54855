//! Listening: TLS 1.2+ (rustls) on any address; plain HTTP only on loopback,
//! or with the explicit development flag `--allow-insecure-http` (S5).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error(
        "refusing plain HTTP on {0}: personal data must cross the network encrypted. \
         Give --tls-cert and --tls-key, listen on 127.0.0.1, or (development only) --allow-insecure-http"
    )]
    InsecureNonLoopback(SocketAddr),
    #[error("--tls-cert and --tls-key go together")]
    HalfTls,
    #[error("TLS certificate or key: {0}")]
    Tls(String),
    #[error("listening on {0}: {1}")]
    Io(SocketAddr, std::io::Error),
}

/// The transport rule, on its own so it is tested without a socket.
pub fn check_listen(addr: SocketAddr, tls: bool, allow_insecure_http: bool) -> Result<(), TransportError> {
    if tls || addr.ip().is_loopback() || allow_insecure_http {
        Ok(())
    } else {
        Err(TransportError::InsecureNonLoopback(addr))
    }
}

/// A rustls server configuration: TLS 1.3 and 1.2 only, ring crypto.
pub fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TransportError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TransportError::Tls(format!("{}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| TransportError::Tls(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TransportError::Tls(format!("{}: {e}", key.display())))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `app` until the process ends.
pub async fn serve(app: Router, addr: SocketAddr, tls: Option<(&Path, &Path)>, allow_insecure_http: bool) -> Result<(), TransportError> {
    check_listen(addr, tls.is_some(), allow_insecure_http)?;
    let service = app.into_make_service();
    match tls {
        Some((cert, key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls_config(cert, key)?));
            tracing::info!(%addr, "listening (HTTPS)");
            axum_server::bind_rustls(addr, config).serve(service).await.map_err(|e| TransportError::Io(addr, e))
        }
        None => {
            if !addr.ip().is_loopback() {
                tracing::warn!(%addr, "plain HTTP on a non-loopback address (--allow-insecure-http): development only");
            }
            tracing::info!(%addr, "listening (HTTP)");
            axum_server::bind(addr).serve(service).await.map_err(|e| TransportError::Io(addr, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_unless_explicitly_allowed() {
        let cases = [
            ("127.0.0.1:8443", false, false, true),
            ("[::1]:8443", false, false, true),
            ("0.0.0.0:8443", false, false, false),
            ("192.168.1.10:8443", false, false, false),
            ("[::]:8443", false, false, false),
            ("0.0.0.0:8443", true, false, true),
            ("0.0.0.0:8443", false, true, true),
        ];
        for (addr, tls, insecure, ok) in cases {
            assert_eq!(check_listen(addr.parse().unwrap(), tls, insecure).is_ok(), ok, "{addr} tls={tls} insecure={insecure}");
        }
    }
}
