//! OTLP over gRPC (:4317): the logs, traces and metrics services, gzip accepted, answered
//! once the events are stored, with the same partial-success semantics as OTLP/HTTP.

use crate::otlp::keep;
use crate::{IntakeStats, Shared};
use freight_ingest::otlp::{read_logs, read_metrics, read_traces};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{LogsService, LogsServiceServer};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

#[derive(Clone)]
struct Receiver(Shared);

fn unavailable(refusal: crate::body::Refusal) -> Status {
    Status::unavailable(refusal.reason)
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        IntakeStats::add(&self.0.stats.requests, 1);
        let decoded = read_logs(request.get_ref());
        let (rejected, message) = keep(&self.0, decoded).await.map_err(unavailable)?;
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: (rejected > 0)
                .then_some(ExportLogsPartialSuccess { rejected_log_records: rejected, error_message: message }),
        }))
    }
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        IntakeStats::add(&self.0.stats.requests, 1);
        let decoded = read_traces(request.get_ref());
        let (rejected, message) = keep(&self.0, decoded).await.map_err(unavailable)?;
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: (rejected > 0)
                .then_some(ExportTracePartialSuccess { rejected_spans: rejected, error_message: message }),
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        IntakeStats::add(&self.0.stats.requests, 1);
        let decoded = read_metrics(request.get_ref());
        IntakeStats::add(&self.0.stats.metric_points, decoded.data_points);
        crate::keep_points(&self.0, decoded.points).await.map_err(Status::unavailable)?;
        Ok(Response::new(ExportMetricsServiceResponse { partial_success: None }))
    }
}

/// Serves OTLP/gRPC on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let limit = state.max_body_bytes;
    let receiver = Receiver(state);
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tonic::transport::Server::builder()
        .add_service(
            LogsServiceServer::new(receiver.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(limit),
        )
        .add_service(
            TraceServiceServer::new(receiver.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(limit),
        )
        .add_service(
            MetricsServiceServer::new(receiver)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(limit),
        )
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}
