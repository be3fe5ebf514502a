//! `Authorization: Bearer KEY`: a missing, malformed or wrong key gets the provider's 401 bodies.

use crate::*;

#[tokio::test]
async fn bad_authorization_gets_the_providers_three_401_bodies() {
    let sb = Sandbox::start(|_| {}).await;
    let path = "/v1/webhook_url";
    assert_eq!(
        sb.call_with("GET", path, None, None).await,
        (401, error_body("Unauthorized", "Please include an authorization header."))
    );
    for header in ["Basic dXNlcjpwYXNz", "Bearer", KEY] {
        assert_eq!(
            sb.call_with("GET", path, Some(header), None).await,
            (401, error_body("Unauthorized", "Please include a Bearer token in your header.")),
            "{header}"
        );
    }
    assert_eq!(
        sb.call_with("POST", "/v1/webhook_url/test", Some("Bearer wrong"), None).await,
        (401, error_body("Unauthorized", "Invalid token. Please check and try again."))
    );
    sb.stop().await;
}
