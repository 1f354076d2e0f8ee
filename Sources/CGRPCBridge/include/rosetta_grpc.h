// rosetta_grpc.h — the whole C API of CGRPCBridge: a gRPC transport over grpc++ that knows bytes and
// method names only (no protobuf messages; what reflection describes, the embedder hands over as a
// serialized descriptor set). Swift's RPC module is its one user.
//
// Server usage:
//
//     static void *on_call(void *ctx, rg_call *call, const rg_call_info *info) {
//         // Runs on a grpc++ thread. Keep `call` (the caller owns one reference now) and return
//         // per-call user data; every later event of this call is delivered with it.
//         start_handler(call, info->method);
//         rg_call_request_read(call);             // ask for the first request message
//         return handler_state;
//     }
//     static void on_event(void *user, rg_event_kind kind, const uint8_t *bytes, size_t len) {
//         // RG_EVENT_MESSAGE: one request message (bytes valid only during this callback);
//         //   call rg_call_request_read again for the next one.
//         // RG_EVENT_HALF_CLOSE: the client sent its last message (not sent when the read
//         //   failed because the call was cancelled: RG_EVENT_CANCELLED/DEADLINE says that).
//         // RG_EVENT_CANCELLED / RG_EVENT_DEADLINE: stop work; the bridge finishes the call itself.
//         // RG_EVENT_WRITTEN: one queued response message left the queue (for back-pressure).
//         // RG_EVENT_DONE: last event of the call; free `user` here.
//     }
//     // Once, before the first server: the .proto files reflection describes (protoc --include_imports
//     // --descriptor_set_out writes such a set).
//     char err[256];
//     rg_register_descriptors(descriptor_set, descriptor_set_len, err, sizeof err);
//     const char *addrs[] = {"127.0.0.1:0"};
//     const char *methods[] = {"/rosetta.v1.Embeddings/Embed"};
//     rg_server_options o; rg_server_options_init(&o);
//     o.listen_addresses = addrs; o.listen_address_count = 1;
//     o.method_names = methods; o.method_count = 1;
//     o.on_call = on_call; o.on_event = on_event; o.context = NULL;
//     rg_server *s = rg_server_start(&o, err, sizeof err);
//     int port = rg_server_bound_port(s, 0);
//     rg_server_set_serving(s, "", 1);
//     ... in the handler: rg_call_write(call, bytes, n); rg_call_finish(call, 0, ""); rg_call_release(call);
//     (a unary reply: rg_call_write_last(call, bytes, n, 0, "") sends message and status together)
//     rg_server_shutdown(s, 5000); rg_server_destroy(s);
//
// Client usage:
//
//     rg_client_options co; rg_client_options_init(&co); co.target = "127.0.0.1:50051";
//     rg_client *c = rg_client_create(&co, err, sizeof err);
//     rg_client_unary(c, "/pkg.Svc/M", req, n, md, md_count, 2000, on_unary_done, user);
//     rg_client_stream *st = rg_client_stream_start(c, "/pkg.Svc/S", md, md_count, -1, on_stream_event, user);
//     rg_client_stream_write(st, bytes, n); rg_client_stream_request_read(st); rg_client_stream_close_send(st);
//     ... RG_EVENT_FINISHED arrives with the status ...; rg_client_stream_release(st);
//     rg_client_destroy(c);
//
// Rules common to every function:
// - No C++ exception crosses this boundary; failures are return codes (RG_OK = 0, negative = error).
// - Byte buffers passed in are copied before the function returns; byte buffers and strings passed to
//   callbacks are valid only during the callback.
// - Callbacks run on grpc++ threads, possibly concurrently for different calls, and for one call an
//   RG_EVENT_WRITTEN may run concurrently with a read event. Callbacks must not block for long
//   (on_call excepted, see there).
// - A handle (rg_call, rg_client_stream) stays valid until its owner releases it, even after the peer
//   has gone; operations on a finished call are harmless and return RG_ERR_CLOSED.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Common

enum {
    RG_OK = 0,
    RG_ERR_INVALID = -1,   // a NULL or malformed argument
    RG_ERR_CLOSED = -2,    // the call is already finished, cancelled or done
    RG_ERR_START = -3,     // the server could not be built or bound (see the error text)
    RG_ERR_INTERNAL = -4,  // grpc++ threw or failed unexpectedly
};

typedef struct rg_metadata {
    const char *key;    // lower-case ASCII; keys ending in "-bin" carry binary values
    const char *value;  // not NUL-terminated for "-bin" keys: use value_len
    size_t value_len;
} rg_metadata;

typedef enum rg_event_kind {
    RG_EVENT_MESSAGE = 1,     // bytes/len: one message from the peer
    RG_EVENT_HALF_CLOSE = 2,  // the peer sent its last message (server: client half-closed)
    // Server: the client cancelled or went away, or shutdown passed its drain deadline (CANCELLED);
    // or the client's deadline passed (DEADLINE). The bridge drops queued writes (each still gets
    // its RG_EVENT_WRITTEN) and finishes the call itself; later writes/finish return RG_ERR_CLOSED.
    RG_EVENT_CANCELLED = 3,
    RG_EVENT_DEADLINE = 4,
    RG_EVENT_WRITTEN = 5,     // one message passed to *_write has been sent (or dropped on failure)
    RG_EVENT_DONE = 6,        // server: final event of a call; no callback follows for it
    RG_EVENT_FINISHED = 7,    // client: final event of a stream; status in rg_client_stream_status
} rg_event_kind;

// MARK: - Server

typedef struct rg_server rg_server;
typedef struct rg_call rg_call;

enum {
    RG_REQUEST_ON_DEMAND = 0,
    RG_REQUEST_READ = 1,
    RG_REQUEST_NONE = 2,
};

typedef struct rg_call_info {
    const char *method;            // "/package.Service/Method", NUL-terminated
    const char *peer;              // e.g. "ipv4:127.0.0.1:53422"
    const rg_metadata *metadata;   // client metadata (pseudo headers excluded)
    size_t metadata_count;
    int64_t deadline_remaining_ns; // time left until the client's deadline; -1 if none
    // Unary methods (rg_server_options.unary_method_names) only: the bridge has read the whole request
    // stream before on_call, and no RG_EVENT_MESSAGE or RG_EVENT_HALF_CLOSE follows. RG_REQUEST_READ: the
    // one message is request/request_len (maybe empty); RG_REQUEST_NONE: the client half-closed without one.
    // Other methods: RG_REQUEST_ON_DEMAND (ask with rg_call_request_read).
    int32_t request_read;
    const uint8_t *request;
    size_t request_len;
} rg_call_info;

// Called once per incoming call, on a grpc++ thread, before any event of the call (for a unary method, once
// its request has arrived). `call` carries one reference owned by the callee (release it with
// rg_call_release once no more rg_call_* function will be called). It may already call
// rg_call_request_read/write/write_last/finish — it may even answer the call before returning, blocking
// this thread meanwhile (other grpc++ threads go on polling). Returns user data for on_event; no event
// is delivered for the call until on_call has returned.
typedef void *(*rg_on_call_fn)(void *context, rg_call *call, const rg_call_info *info);
// Called for every later event of a call; see rg_event_kind. `user` is what on_call returned.
// RG_EVENT_DONE comes exactly once, last, after the call is finished (by rg_call_finish, or by the
// bridge itself on cancellation); `user` may be freed then.
typedef void (*rg_on_event_fn)(void *user, rg_event_kind kind, const uint8_t *bytes, size_t len);

typedef struct rg_server_options {
    const char *const *listen_addresses; // "host:port"; port 0 picks a free port
    size_t listen_address_count;
    // Methods the server implements ("/pkg.Service/Method"). They are registered with grpc++ so
    // reflection and health list their services; calls to other methods still reach on_call.
    const char *const *method_names;
    size_t method_count;
    // The unary ones among method_names: the bridge reads their one request message and the client's
    // half-close before on_call (rg_call_info.request), and answers a second message with INTERNAL itself.
    const char *const *unary_method_names;
    size_t unary_method_count;
    int32_t max_receive_message_bytes; // 0: grpc default (4 MiB); -1: unlimited
    int32_t max_send_message_bytes;    // 0: grpc default (unlimited); -1: unlimited
    int32_t max_concurrent_streams;    // per connection; 0: grpc default
    int32_t keepalive_time_ms;         // server pings after this idle time; 0: grpc default
    int32_t keepalive_timeout_ms;      // ping ack timeout; 0: grpc default
    int32_t keepalive_min_client_interval_ms; // accept client pings this often; 0: grpc default
    // TLS: all NULL for plaintext. Paths of PEM files.
    const char *tls_certificate_chain_path;
    const char *tls_private_key_path;
    const char *tls_client_ca_path;    // NULL: no client certificates requested
    int32_t tls_require_client_cert;   // with tls_client_ca_path: 1 require and verify, 0 verify if sent
    rg_on_call_fn on_call;
    rg_on_event_fn on_event;
    void *context;                     // passed to on_call
} rg_server_options;

// Zeroes *options (all defaults). Thread-safe.
void rg_server_options_init(rg_server_options *options);

// Builds and starts a server, with health (every service NOT_SERVING until rg_server_set_serving)
// and reflection (it lists the services of method_names and describes the files rg_register_descriptors
// registered; from now on that function adds none). Options are copied. Returns NULL on failure and
// writes a NUL-terminated reason into error (if error_cap > 0). The caller owns the server:
// rg_server_destroy.
rg_server *rg_server_start(const rg_server_options *options, char *error, size_t error_cap);

// Adds the .proto files of `descriptor_set`, a serialized google.protobuf.FileDescriptorSet with every file
// after the files it imports (as `protoc --include_imports --descriptor_set_out` writes it), to the
// process-wide pool grpc++ reflection describes messages and services from. The bytes are copied. Files
// the pool already has (by name: protobuf's own google/protobuf/*.proto, or an earlier call's) are skipped.
// All or nothing: a file that does not build from the set and the pool, or that redefines a symbol of the
// pool, fails the call and adds no file.
// Call it before the first rg_server_start of the process (grpc++ reads the pool without a lock this
// function could take); after that, a call that would add a file fails, and one that adds none (the same
// set again) succeeds. Thread-safe with itself.
// Returns RG_OK; RG_ERR_INVALID (NULL bytes with len > 0, not a descriptor set, a file that does not
// build or clashes, or too late) or RG_ERR_INTERNAL, with a NUL-terminated reason in error.
int rg_register_descriptors(const uint8_t *descriptor_set, size_t len, char *error, size_t error_cap);

// Port bound for listen address `index` (the real one when 0 was asked); -1 if out of range.
// Thread-safe.
int rg_server_bound_port(const rg_server *server, size_t index);

// Sets the health status of `service` ("" is the whole server). Thread-safe. Returns RG_OK or
// RG_ERR_INVALID.
int rg_server_set_serving(rg_server *server, const char *service, int serving);

// Drains, then stops: new calls are refused with UNAVAILABLE (health checks still answer) while calls in
// flight finish, until none is left or `drain_ms` from now; then grpc stops, every health status becomes
// NOT_SERVING, and what is left (health watches, reflection streams, calls past the deadline) is cancelled;
// it waits for them. Blocks; call it once, not from a
// callback. Thread-safe. Returns RG_OK (also if already shut down).
int rg_server_shutdown(rg_server *server, int64_t drain_ms);

// Shuts down (drain 0) if needed and frees the server. No callback runs after it returns.
// Call handles still held stay valid until released.
void rg_server_destroy(rg_server *server);

// Asks for the next request message: one RG_EVENT_MESSAGE, or RG_EVENT_HALF_CLOSE at the end of
// the stream, will follow. At most one read is outstanding; extra requests are ignored.
// Thread-safe. Returns RG_OK or RG_ERR_CLOSED.
int rg_call_request_read(rg_call *call);

// Queues one response message (copied); queued messages are sent in order. Each accepted message
// produces exactly one RG_EVENT_WRITTEN. Thread-safe, never blocks. Returns RG_OK, RG_ERR_CLOSED
// (finished/cancelled: the message is dropped and no event follows) or RG_ERR_INVALID.
int rg_call_write(rg_call *call, const uint8_t *bytes, size_t len);

// Finishes the call with a status (grpc code 0..16 and a UTF-8 message) once the queued messages are
// sent. Only the first finish counts. Thread-safe. Returns RG_OK or RG_ERR_CLOSED.
int rg_call_finish(rg_call *call, int32_t code, const char *message);

// Queues a last response message (copied) and finishes the call with the status once the messages queued
// before it are sent: rg_call_write then rg_call_finish, except that grpc++ sends this message and the status
// in one operation (StartWriteAndFinish; the unary reply). It produces no RG_EVENT_WRITTEN. Only the first
// finish counts. Thread-safe. Returns RG_OK, RG_ERR_CLOSED (already finishing: nothing is sent) or
// RG_ERR_INVALID.
int rg_call_write_last(rg_call *call, const uint8_t *bytes, size_t len, int32_t code, const char *message);

// Releases the caller's reference. The handle must not be used afterwards. Thread-safe.
void rg_call_release(rg_call *call);

// MARK: - Client

typedef struct rg_client rg_client;
typedef struct rg_client_stream rg_client_stream;

typedef struct rg_client_options {
    const char *target;                // "host:port" (any grpc target URI)
    // TLS: root_ca_path NULL for plaintext, "" for TLS with the system roots, else a PEM file.
    const char *root_ca_path;
    const char *certificate_chain_path; // client certificate for mTLS (PEM), or NULL
    const char *private_key_path;       // its key (PEM), or NULL
    const char *authority;              // overrides the TLS target name / :authority, or NULL
    int32_t max_receive_message_bytes;  // 0: grpc default (4 MiB); -1: unlimited
    int32_t max_send_message_bytes;     // 0: grpc default (unlimited); -1: unlimited
} rg_client_options;

// Zeroes *options. Thread-safe.
void rg_client_options_init(rg_client_options *options);

// Opens a channel (lazily connected). Options are copied. Returns NULL on failure (unreadable PEM
// file, NULL target) with a reason in error. The caller owns the client. Thread-safe.
rg_client *rg_client_create(const rg_client_options *options, char *error, size_t error_cap);

// Frees the client. Calls in flight keep the channel alive and still end normally (their callbacks
// run). Thread-safe; may be called from any thread except inside this client's callbacks.
void rg_client_destroy(rg_client *client);

// Called once when a unary call ends: status code, message, and on OK the response bytes.
typedef void (*rg_unary_done_fn)(void *user, int32_t code, const char *message,
                                 const uint8_t *bytes, size_t len);

// Starts a unary call with `timeout_ms` (-1: none). Request and metadata are copied. On RG_OK, `done`
// runs exactly once on a grpc++ thread; on an error return it never runs. Thread-safe. Returns RG_OK
// or RG_ERR_INVALID (NULL argument, or a metadata key/value grpc would refuse).
int rg_client_unary(rg_client *client, const char *method, const uint8_t *bytes, size_t len,
                    const rg_metadata *metadata, size_t metadata_count, int64_t timeout_ms,
                    rg_unary_done_fn done, void *user);

// Called for each event of a client stream: RG_EVENT_MESSAGE, RG_EVENT_HALF_CLOSE (the server
// finished sending: later reads, writes and close_send return RG_ERR_CLOSED), RG_EVENT_WRITTEN, and
// RG_EVENT_FINISHED last. The stream finishes only once the server has finished AND (the caller has
// read to RG_EVENT_HALF_CLOSE, cancelled, or released the handle), since until then the caller might
// still start operations.
typedef void (*rg_stream_event_fn)(void *user, rg_event_kind kind, const uint8_t *bytes, size_t len);

// Starts a bidirectional stream. The caller owns the returned handle (rg_client_stream_release).
// Returns NULL on invalid arguments. Thread-safe.
rg_client_stream *rg_client_stream_start(rg_client *client, const char *method,
                                         const rg_metadata *metadata, size_t metadata_count,
                                         int64_t timeout_ms, rg_stream_event_fn on_event, void *user);
// Same contracts as the rg_call_* counterparts. Thread-safe.
int rg_client_stream_write(rg_client_stream *stream, const uint8_t *bytes, size_t len);
int rg_client_stream_request_read(rg_client_stream *stream);
// Half-closes the sending side after queued messages. Returns RG_OK or RG_ERR_CLOSED.
int rg_client_stream_close_send(rg_client_stream *stream);
// Cancels the stream (it still ends with RG_EVENT_FINISHED, status CANCELLED).
void rg_client_stream_cancel(rg_client_stream *stream);
// Final status, valid after RG_EVENT_FINISHED: returns the code; *message (may be NULL) gets a
// string owned by the stream, valid until release.
int32_t rg_client_stream_status(rg_client_stream *stream, const char **message);
// Releases the caller's handle; queued writes are dropped and, of the events, only
// RG_EVENT_FINISHED still comes (the stream ends by itself, or is cancelled first by the caller).
void rg_client_stream_release(rg_client_stream *stream);

#ifdef __cplusplus
}
#endif
