// Client half of the bridge: a channel plus grpc::GenericStub callback calls (unary and bidi),
// for the sample CLI and the live tests. Same byte-only contract as the server half.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <deque>
#include <memory>
#include <mutex>

#include "bridge_util.h"

using grpc::ByteBuffer;

struct rg_client {
    std::shared_ptr<grpc::Channel> channel;
};

namespace {

bool AddMetadata(grpc::ClientContext *context, const rg_metadata *metadata, size_t count) {
    if (count > 0 && metadata == nullptr) return false;
    for (size_t i = 0; i < count; i++) {
        if (!rg::ValidMetadata(metadata[i])) return false;
    }
    for (size_t i = 0; i < count; i++) {
        context->AddMetadata(metadata[i].key, std::string(metadata[i].value ? metadata[i].value : "", metadata[i].value_len));
    }
    return true;
}

void SetTimeout(grpc::ClientContext *context, int64_t timeout_ms) {
    if (timeout_ms >= 0) context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
}

// Everything a unary call needs until its callback: grpc only borrows these.
struct UnaryCall {
    std::shared_ptr<grpc::Channel> channel;  // keeps the channel alive past rg_client_destroy
    grpc::ClientContext context;
    ByteBuffer request, response;
    rg_unary_done_fn done;
    void *user;
};

}  // namespace

// Bidi stream reactor, owned by grpc (until OnDone) and the embedder (until release), like rg_call.
struct rg_client_stream final : public grpc::ClientBidiReactor<ByteBuffer, ByteBuffer> {
    rg_client_stream(std::shared_ptr<grpc::Channel> channel, rg_stream_event_fn on_event, void *user)
        : channel_(std::move(channel)), on_event_(on_event), user_(user) {}

    void Start(const std::string &method) {
        grpc::GenericStub stub(channel_);
        stub.PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(), this);
        StartCall();
    }

    int RequestRead() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (done_ || read_closed_) return RG_ERR_CLOSED;
            read_wanted_ = true;
        }
        Pump();
        return RG_OK;
    }

    int Write(const uint8_t *bytes, size_t len) {
        ByteBuffer buffer = rg::ToByteBuffer(bytes, len);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (done_ || close_requested_) return RG_ERR_CLOSED;
            queue_.push_back(std::move(buffer));
        }
        Pump();
        return RG_OK;
    }

    int CloseSend() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (done_ || close_requested_) return RG_ERR_CLOSED;
            close_requested_ = true;
        }
        Pump();
        return RG_OK;
    }

    void Cancel() { context_.TryCancel(); }

    int32_t Status(const char **message) {
        std::lock_guard<std::mutex> lock(mu_);
        if (message != nullptr) *message = status_message_.c_str();
        return status_code_;
    }

    void Unref() {
        bool last;
        {
            std::lock_guard<std::mutex> lock(mu_);
            last = --refs_ == 0;
        }
        if (last) delete this;
    }

    void OnReadDone(bool ok) override {
        std::vector<uint8_t> bytes;
        if (ok) bytes = rg::FromByteBuffer(read_buffer_);
        read_buffer_.Clear();
        {
            std::lock_guard<std::mutex> lock(mu_);
            reading_ = false;
            if (!ok) read_closed_ = true;
        }
        on_event_(user_, ok ? RG_EVENT_MESSAGE : RG_EVENT_HALF_CLOSE, bytes.data(), bytes.size());
        Pump();
    }

    void OnWriteDone(bool ok) override {
        write_buffer_.Clear();
        size_t dropped = 0;
        {
            std::lock_guard<std::mutex> lock(mu_);
            writing_ = false;
            if (!ok) {  // the stream is broken: nothing more will be sent
                write_failed_ = true;
                dropped = queue_.size();
                queue_.clear();
            }
        }
        for (size_t i = 0; i <= dropped; i++) on_event_(user_, RG_EVENT_WRITTEN, nullptr, 0);
        Pump();
    }

    void OnWritesDoneDone(bool) override {}

    void OnDone(const grpc::Status &status) override {
        size_t dropped;
        {
            std::lock_guard<std::mutex> lock(mu_);
            done_ = true;
            status_code_ = static_cast<int32_t>(status.error_code());
            status_message_ = status.error_message();
            dropped = queue_.size();
            queue_.clear();
        }
        for (size_t i = 0; i < dropped; i++) on_event_(user_, RG_EVENT_WRITTEN, nullptr, 0);
        on_event_(user_, RG_EVENT_FINISHED, nullptr, 0);
        Unref();
    }

  private:
    ~rg_client_stream() override = default;

    void Pump() {
        bool read = false, write = false, close = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (done_) return;
            if (read_wanted_ && !reading_ && !read_closed_) {
                read_wanted_ = false;
                reading_ = read = true;
            }
            if (!writing_ && !write_failed_) {
                if (!queue_.empty()) {
                    write_buffer_ = std::move(queue_.front());
                    queue_.pop_front();
                    writing_ = write = true;
                } else if (close_requested_ && !closed_) {
                    closed_ = close = true;
                }
            }
        }
        if (read) StartRead(&read_buffer_);
        if (write) StartWrite(&write_buffer_);
        if (close) StartWritesDone();
    }

    std::shared_ptr<grpc::Channel> channel_;
    rg_stream_event_fn on_event_;
    void *user_;
    grpc::ClientContext context_;
    std::mutex mu_;
    int refs_ = 2;  // grpc + embedder
    bool read_wanted_ = false, reading_ = false, read_closed_ = false;
    bool writing_ = false, write_failed_ = false, close_requested_ = false, closed_ = false, done_ = false;
    std::deque<ByteBuffer> queue_;
    ByteBuffer read_buffer_, write_buffer_;
    int32_t status_code_ = -1;
    std::string status_message_;

    friend rg_client_stream *rg_client_stream_start(rg_client *, const char *, const rg_metadata *, size_t, int64_t,
                                                    rg_stream_event_fn, void *);
};

extern "C" {

void rg_client_options_init(rg_client_options *options) {
    if (options != nullptr) std::memset(options, 0, sizeof *options);
}

rg_client *rg_client_create(const rg_client_options *o, char *error, size_t error_cap) {
    try {
        if (o == nullptr || o->target == nullptr) {
            rg::SetError(error, error_cap, "no target");
            return nullptr;
        }
        std::shared_ptr<grpc::ChannelCredentials> credentials;
        if (o->root_ca_path != nullptr) {
            grpc::SslCredentialsOptions ssl;
            std::string why;
            if (o->root_ca_path[0] != '\0' && !rg::ReadFile(o->root_ca_path, &ssl.pem_root_certs, &why)) {
                rg::SetError(error, error_cap, why);
                return nullptr;
            }
            if ((o->certificate_chain_path == nullptr) != (o->private_key_path == nullptr)) {
                rg::SetError(error, error_cap, "a client certificate needs both the chain and the key");
                return nullptr;
            }
            if (o->certificate_chain_path != nullptr &&
                (!rg::ReadFile(o->certificate_chain_path, &ssl.pem_cert_chain, &why) ||
                 !rg::ReadFile(o->private_key_path, &ssl.pem_private_key, &why))) {
                rg::SetError(error, error_cap, why);
                return nullptr;
            }
            credentials = grpc::SslCredentials(ssl);
        } else {
            credentials = grpc::InsecureChannelCredentials();
        }
        grpc::ChannelArguments args;
        if (o->authority != nullptr) {
            if (o->root_ca_path != nullptr) args.SetSslTargetNameOverride(o->authority);
            else args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, o->authority);
        }
        if (o->max_receive_message_bytes != 0) args.SetMaxReceiveMessageSize(o->max_receive_message_bytes);
        if (o->max_send_message_bytes != 0) args.SetMaxSendMessageSize(o->max_send_message_bytes);
        auto client = std::make_unique<rg_client>();
        client->channel = grpc::CreateCustomChannel(o->target, credentials, args);
        if (!client->channel) {
            rg::SetError(error, error_cap, "could not create a channel");
            return nullptr;
        }
        return client.release();
    } catch (const std::exception &e) {
        rg::SetError(error, error_cap, std::string("grpc++ threw: ") + e.what());
        return nullptr;
    } catch (...) {
        rg::SetError(error, error_cap, "grpc++ threw an unknown exception");
        return nullptr;
    }
}

void rg_client_destroy(rg_client *client) {
    try {
        delete client;
    } catch (...) {
    }
}

int rg_client_unary(rg_client *client, const char *method, const uint8_t *bytes, size_t len,
                    const rg_metadata *metadata, size_t metadata_count, int64_t timeout_ms, rg_unary_done_fn done,
                    void *user) {
    if (client == nullptr || method == nullptr || done == nullptr || (bytes == nullptr && len > 0))
        return RG_ERR_INVALID;
    try {
        auto call = std::make_unique<UnaryCall>();
        call->channel = client->channel;
        call->done = done;
        call->user = user;
        if (!AddMetadata(&call->context, metadata, metadata_count)) return RG_ERR_INVALID;
        SetTimeout(&call->context, timeout_ms);
        call->request = rg::ToByteBuffer(bytes, len);
        grpc::GenericStub stub(call->channel);
        UnaryCall *raw = call.release();
        stub.UnaryCall(&raw->context, method, grpc::StubOptions(), &raw->request, &raw->response,
                       [raw](grpc::Status status) {
                           std::unique_ptr<UnaryCall> owned(raw);
                           std::vector<uint8_t> out;
                           if (status.ok()) out = rg::FromByteBuffer(owned->response);
                           owned->done(owned->user, static_cast<int32_t>(status.error_code()),
                                       status.error_message().c_str(), out.data(), out.size());
                       });
        return RG_OK;
    } catch (...) {
        return RG_ERR_INTERNAL;
    }
}

rg_client_stream *rg_client_stream_start(rg_client *client, const char *method, const rg_metadata *metadata,
                                         size_t metadata_count, int64_t timeout_ms, rg_stream_event_fn on_event,
                                         void *user) {
    if (client == nullptr || method == nullptr || on_event == nullptr) return nullptr;
    try {
        auto *stream = new rg_client_stream(client->channel, on_event, user);
        if (!AddMetadata(&stream->context_, metadata, metadata_count)) {
            delete stream;
            return nullptr;
        }
        SetTimeout(&stream->context_, timeout_ms);
        stream->Start(method);
        return stream;
    } catch (...) {
        return nullptr;
    }
}

int rg_client_stream_write(rg_client_stream *stream, const uint8_t *bytes, size_t len) {
    if (stream == nullptr || (bytes == nullptr && len > 0)) return RG_ERR_INVALID;
    try {
        return stream->Write(bytes, len);
    } catch (...) {
        return RG_ERR_INTERNAL;
    }
}

int rg_client_stream_request_read(rg_client_stream *stream) {
    if (stream == nullptr) return RG_ERR_INVALID;
    try {
        return stream->RequestRead();
    } catch (...) {
        return RG_ERR_INTERNAL;
    }
}

int rg_client_stream_close_send(rg_client_stream *stream) {
    if (stream == nullptr) return RG_ERR_INVALID;
    try {
        return stream->CloseSend();
    } catch (...) {
        return RG_ERR_INTERNAL;
    }
}

void rg_client_stream_cancel(rg_client_stream *stream) {
    if (stream == nullptr) return;
    try {
        stream->Cancel();
    } catch (...) {
    }
}

int32_t rg_client_stream_status(rg_client_stream *stream, const char **message) {
    if (stream == nullptr) return RG_ERR_INVALID;
    return stream->Status(message);
}

void rg_client_stream_release(rg_client_stream *stream) {
    if (stream == nullptr) return;
    try {
        stream->Unref();
    } catch (...) {
    }
}

}  // extern "C"
