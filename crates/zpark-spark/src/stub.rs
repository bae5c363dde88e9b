//! The gRPC calls zpark's plans go through, on a channel of its own: HTTP/2 keep-alive pings,
//! so that a frozen server or a dead link is noticed within seconds, not at the plan's time
//! limit; and the interrupt that cancels a plan on the server by its tag.

use std::str::FromStr;
use std::time::Duration;

use spark_connect_core::ChannelBuilder;
use spark_connect_proto as proto;
use spark_connect_proto::spark_connect_service_client::SparkConnectServiceClient;
use tonic::metadata::{Ascii, MetadataKey, MetadataValue};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

/// The largest message either way: 128 MiB, as the reference client allows.
const MAX_MESSAGE: usize = 128 * 1024 * 1024;

/// How often the channel pings the server, and how long a ping may go unanswered before the
/// connection counts as lost.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeepAlive {
    pub(super) interval: Duration,
    pub(super) timeout: Duration,
}

/// The service's client on a keep-alive channel, with the headers of every call.
#[derive(Clone)]
pub(super) struct Stub {
    client: SparkConnectServiceClient<Channel>,
    headers: Vec<(MetadataKey<Ascii>, MetadataValue<Ascii>)>,
}

impl Stub {
    /// A stub for the server `builder` names; connects on its first call.
    pub(super) fn new(
        builder: &ChannelBuilder,
        connect_timeout: Duration,
        keep_alive: KeepAlive,
    ) -> Result<Stub, String> {
        let scheme = if builder.use_ssl() { "https" } else { "http" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{}", builder.endpoint()))
            .map_err(|e| format!("not an endpoint: {e}"))?
            .connect_timeout(connect_timeout)
            .http2_keep_alive_interval(keep_alive.interval)
            .keep_alive_timeout(keep_alive.timeout)
            .keep_alive_while_idle(true);
        if builder.use_ssl() {
            let tls = ClientTlsConfig::new().domain_name(builder.host()).with_native_roots();
            endpoint = endpoint.tls_config(tls).map_err(|e| format!("TLS: {e}"))?;
        }
        let client = SparkConnectServiceClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        let mut headers: Vec<(String, String)> = builder.metadata();
        headers.push(("user-agent".into(), builder.user_agent().map_err(|e| e.message)?));
        if let Some(user) = builder.user_id() {
            headers.push(("user_id".into(), user.to_string()));
        }
        if let Some(token) = builder.token() {
            headers.push(("authorization".into(), format!("Bearer {token}")));
        }
        let headers = headers
            .into_iter()
            .filter_map(|(k, v)| Some((MetadataKey::from_str(&k).ok()?, MetadataValue::from_str(&v).ok()?)))
            .collect();
        Ok(Stub { client, headers })
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        for (key, value) in &self.headers {
            request.metadata_mut().insert(key.clone(), value.clone());
        }
        request
    }

    pub(super) async fn execute_plan(
        &self,
        request: proto::ExecutePlanRequest,
    ) -> Result<tonic::Streaming<proto::ExecutePlanResponse>, tonic::Status> {
        let answer = self.client.clone().execute_plan(self.request(request)).await?;
        Ok(answer.into_inner())
    }

    pub(super) async fn analyze_plan(
        &self,
        request: proto::AnalyzePlanRequest,
    ) -> Result<proto::AnalyzePlanResponse, tonic::Status> {
        Ok(self
            .client
            .clone()
            .analyze_plan(self.request(request))
            .await?
            .into_inner())
    }

    /// Interrupts the operations tagged `tag` in the session: the ids the server interrupted.
    pub(super) async fn interrupt_tag(
        &self,
        session_id: &str,
        user: proto::UserContext,
        tag: &str,
    ) -> Result<Vec<String>, tonic::Status> {
        let request = proto::InterruptRequest {
            session_id: session_id.to_string(),
            user_context: Some(user),
            interrupt_type: proto::interrupt_request::InterruptType::Tag as i32,
            interrupt: Some(proto::interrupt_request::Interrupt::OperationTag(tag.to_string())),
            ..Default::default()
        };
        Ok(self
            .client
            .clone()
            .interrupt(self.request(request))
            .await?
            .into_inner()
            .interrupted_ids)
    }
}
