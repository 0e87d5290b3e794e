//! Response compression, for every response but an event stream.
//!
//! tower-http's compressed body is one enum over every encoder it offers, as large as the
//! largest (brotli's state, about 4 KiB), and the body of every response is boxed with it even
//! when the predicate says "identity". For a response that lasts seconds that is nothing; for an
//! event stream held open for hours, a thousand of them at once, it is a fifth of each stream's
//! memory. Streams are never compressed anyway (SSE is excluded by the predicate too), so they
//! skip the layer.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::Request;
use axum::response::Response;
use axum::BoxError;
use futures_util::future::{Either, FutureExt, Map};
use tower::{Layer, Service};
use tower_http::compression::predicate::{And, NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{Compression, CompressionBody, CompressionLayer};

type Compressed<S> = Compression<S, Over1KiB>;
/// Over 1 KiB, and neither gRPC, nor images (already compressed), nor event streams.
type Over1KiB = And<And<And<SizeAbove, NotForContentType>, NotForContentType>, NotForContentType>;

fn predicate() -> Over1KiB {
    SizeAbove::new(1024)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
}

/// Whether a request is for an event stream (`GET /api/{user_id}/events`).
fn is_event_stream(request: &Request<Body>) -> bool {
    let path = request.uri().path();
    path.starts_with("/api/") && path.ends_with("/events")
}

/// The compression layer, with event streams let through untouched.
#[derive(Clone)]
pub struct CompressionExceptStreams;

impl<S> Layer<S> for CompressionExceptStreams {
    type Service = ExceptStreams<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ExceptStreams(CompressionLayer::new().compress_when(predicate()).layer(inner))
    }
}

#[derive(Clone)]
pub struct ExceptStreams<S>(Compressed<S>);

type Boxed<B> = fn(Result<Response<B>, Infallible>) -> Result<Response, Infallible>;

fn boxed<B>(result: Result<Response<B>, Infallible>) -> Result<Response, Infallible>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    result.map(|response| response.map(Body::new))
}

impl<S, B> Service<Request<Body>> for ExceptStreams<S>
where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError> + Send + Sync,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<
        Map<<Compressed<S> as Service<Request<Body>>>::Future, Boxed<CompressionBody<B>>>,
        Map<S::Future, Boxed<B>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Compression is ready when the service it wraps is.
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if is_event_stream(&request) {
            Either::Right(self.0.get_mut().call(request).map(boxed as Boxed<B>))
        } else {
            Either::Left(self.0.call(request).map(boxed as Boxed<CompressionBody<B>>))
        }
    }
}
