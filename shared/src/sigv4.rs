//! AWS Signature Version 4 query-string signing (presigned URLs), pure: the caller passes the
//! time and the credentials. The edge presigns S3 uploads with it so media goes straight from
//! clients to storage.

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Long-term or session credentials.
#[derive(Clone)]
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (never printed).
    pub secret_access_key: String,
    /// Session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ..)", self.access_key_id)
    }
}

/// What to presign.
#[derive(Debug, Clone)]
pub struct Presign<'a> {
    /// HTTP method, e.g. `PUT`.
    pub method: &'a str,
    /// `https` or `http` (local emulators).
    pub scheme: &'a str,
    /// Host (with port if not default), e.g. `bucket.s3.us-east-1.amazonaws.com`.
    pub host: &'a str,
    /// Absolute path, unencoded, e.g. `/bucket/media/1.png`.
    pub path: &'a str,
    /// Region, e.g. `us-east-1`.
    pub region: &'a str,
    /// Service, `s3`.
    pub service: &'a str,
    /// Headers the client must send exactly (besides `host`), e.g. content-type and length.
    pub signed_headers: &'a [(&'a str, &'a str)],
    /// Seconds the URL stays valid (1..=604800).
    pub expires_secs: u64,
    /// Signing time, seconds since the Unix epoch.
    pub now_secs: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("hmac takes any key length"));
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it; `/` kept when `keep_slash`.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `20130524T000000Z` and `20130524` for a Unix time.
fn amz_dates(now_secs: u64) -> (String, String) {
    let iso = crate::wire::timestamp(now_secs * 1000);
    let compact: String = iso[..19].chars().filter(|c| *c != '-' && *c != ':').collect();
    let date = compact[..8].to_owned();
    (format!("{compact}Z"), date)
}

/// Returns the presigned URL.
pub fn presign_url(creds: &Credentials, p: &Presign<'_>) -> String {
    let (amz_date, date) = amz_dates(p.now_secs);
    let scope = format!("{date}/{}/{}/aws4_request", p.region, p.service);
    let mut headers: Vec<(String, String)> = p.signed_headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned())).collect();
    headers.push(("host".into(), p.host.to_owned()));
    headers.sort();
    let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let mut query: Vec<(String, String)> = vec![
        ("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()),
        ("X-Amz-Credential".into(), format!("{}/{scope}", creds.access_key_id)),
        ("X-Amz-Date".into(), amz_date.clone()),
        ("X-Amz-Expires".into(), p.expires_secs.to_string()),
        ("X-Amz-SignedHeaders".into(), signed_headers.clone()),
    ];
    if let Some(token) = &creds.session_token {
        query.push(("X-Amz-Security-Token".into(), token.clone()));
    }
    let mut canonical_query: Vec<(String, String)> = query.iter().map(|(k, v)| (uri_encode(k, false), uri_encode(v, false))).collect();
    canonical_query.sort();
    let canonical_query = canonical_query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let path = uri_encode(p.path, true);
    let canonical_request = format!("{}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\nUNSIGNED-PAYLOAD", p.method);
    let string_to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let k_date = hmac(format!("AWS4{}", creds.secret_access_key).as_bytes(), &date);
    let k_region = hmac(&k_date, p.region);
    let k_service = hmac(&k_region, p.service);
    let k_signing = hmac(&k_service, "aws4_request");
    let signature = hex(&hmac(&k_signing, &string_to_sign));
    format!("{}://{}{path}?{canonical_query}&X-Amz-Signature={signature}", p.scheme, p.host)
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn example_credentials() -> Credentials {
        Credentials { access_key_id: "AKIAIOSFODNN7EXAMPLE".into(), secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), session_token: None }
    }

    #[test]
    fn matches_the_aws_documentation_example() {
        // "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", S3 docs.
        let url = presign_url(
            &example_credentials(),
            &Presign {
                method: "GET",
                scheme: "https",
                host: "examplebucket.s3.amazonaws.com",
                path: "/test.txt",
                region: "us-east-1",
                service: "s3",
                signed_headers: &[],
                expires_secs: 86400,
                now_secs: 1_369_353_600, // 2013-05-24T00:00:00Z
            },
        );
        assert!(url.starts_with("https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"), "{url}");
        assert!(url.ends_with("&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"), "{url}");
    }

    #[test]
    fn signs_content_type_and_length_when_asked() {
        let url = presign_url(
            &example_credentials(),
            &Presign {
                method: "PUT",
                scheme: "http",
                host: "127.0.0.1:5000",
                path: "/media/acct 1/x.png",
                region: "us-east-1",
                service: "s3",
                signed_headers: &[("Content-Type", "image/png"), ("Content-Length", "1234")],
                expires_secs: 300,
                now_secs: 1_700_000_000,
            },
        );
        assert!(url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"), "{url}");
        assert!(url.starts_with("http://127.0.0.1:5000/media/acct%201/x.png?"), "{url}");
        let other = presign_url(
            &example_credentials(),
            &Presign {
                method: "PUT",
                scheme: "http",
                host: "127.0.0.1:5000",
                path: "/media/acct 1/x.png",
                region: "us-east-1",
                service: "s3",
                signed_headers: &[("Content-Type", "image/png"), ("Content-Length", "1235")],
                expires_secs: 300,
                now_secs: 1_700_000_000,
            },
        );
        assert_ne!(url, other, "a different length gives a different signature");
    }

    #[test]
    fn credentials_never_print_the_secret() {
        assert!(!format!("{:?}", example_credentials()).contains("wJalr"));
    }
}
