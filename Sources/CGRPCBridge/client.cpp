// Client half of the bridge: a channel plus grpc::GenericStub callback calls (unary and bidi),
// for the sample CLI and the live tests. Same byte-only contract as the server half.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bridge_util.h"

using grpc::ByteBuffer;

struct rg_client {
    std::shared_ptr<grpc::Channel> channel;
};

namespace {

// A call's completion runs on a grpc thread, and a call keeps its channel alive: when it held the last
// reference, the channel would be destroyed there, inside grpc's own callback, which trips grpc's
// ref-count assertions (seen in ~1 run in 100 of a CLI that dropped its client right after a call).
// Calls hand their channel reference to this reaper instead; it drops them on a thread of its own.
class ChannelReaper {
  public:
    static ChannelReaper &Shared() {
        static ChannelReaper *reaper = new ChannelReaper();  // never destroyed: calls may end during exit
        return *reaper;
    }

    void Release(std::shared_ptr<grpc::Channel> channel) {
        if (!channel) return;
        {
            std::lock_guard<std::mutex> lock(mu_);
            pending_.push_back(std::move(channel));
        }
        ready_.notify_one();
    }

  private:
    ChannelReaper() { std::thread([this] { Run(); }).detach(); }

    void Run() {
        for (;;) {
            std::vector<std::shared_ptr<grpc::Channel>> batch;
            {
                std::unique_lock<std::mutex> lock(mu_);
                ready_.wait(lock, [this] { return !pending_.empty(); });
                batch.swap(pending_);
            }
            batch.clear();  // the last references go here, off grpc's threads
        }
    }

    std::mutex mu_;
    std::condition_variable ready_;
    std::vector<std::shared_ptr<grpc::Channel>> pending_;
};

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
//
// The embedder starts reads and writes from its own threads, outside grpc's reactions. grpc allows
// that only under a hold (AddHold): without one, OnDone could run (and the call be freed) between
// our decision to start an operation and the start. So the stream holds from StartCall until
// "outside" operations are over for good (the server finished sending, a write failed, cancel, or
// the embedder's release), and only then RemoveHold lets OnDone come. Reads and writes are started
// by one thread at a time (see rg_call's Pump), and RemoveHold is that thread's last act.
struct rg_client_stream final : public grpc::ClientBidiReactor<ByteBuffer, ByteBuffer> {
    rg_client_stream(std::shared_ptr<grpc::Channel> channel, rg_stream_event_fn on_event, void *user)
        : channel_(std::move(channel)), on_event_(on_event), user_(user) {}

    void Start(const std::string &method) {
        grpc::GenericStub stub(channel_);
        stub.PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(), this);
        AddHold();
        StartCall();
    }

    int RequestRead() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (outside_closed_ || read_closed_) return RG_ERR_CLOSED;
            read_wanted_ = true;
        }
        Pump();
        return RG_OK;
    }

    int Write(const uint8_t *bytes, size_t len) {
        ByteBuffer buffer = rg::ToByteBuffer(bytes, len);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (outside_closed_ || close_requested_) return RG_ERR_CLOSED;
            queue_.push_back(std::move(buffer));
        }
        Pump();
        return RG_OK;
    }

    int CloseSend() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (outside_closed_ || close_requested_) return RG_ERR_CLOSED;
            close_requested_ = true;
        }
        Pump();
        return RG_OK;
    }

    void Cancel() {
        context_.TryCancel();
        CloseOutside();
        Pump();
    }

    int32_t Status(const char **message) {
        std::lock_guard<std::mutex> lock(mu_);
        if (message != nullptr) *message = status_message_.c_str();
        return status_code_;
    }

    // The embedder's release: it starts nothing more, so the hold can go. Once the hold is gone,
    // OnDone may free this object at any moment, so nothing here touches it after that point.
    void Release() {
        bool last, remove_hold = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            last = --refs_ == 0;
            outside_closed_ = true;
            queue_.clear();  // no RG_EVENT_WRITTEN after release
            // With another thread pumping, that thread sees outside_closed_ and removes the hold.
            if (!last && !pumping_ && !hold_removed_) hold_removed_ = remove_hold = true;
        }
        if (last) Destroy(this);  // grpc was done already
        else if (remove_hold) RemoveHold();
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
        if (!ok) CloseOutside();  // the server has finished: nothing more to send or read
        Pump();
    }

    void OnWriteDone(bool ok) override {
        write_buffer_.Clear();
        {
            std::lock_guard<std::mutex> lock(mu_);
            writing_ = false;
        }
        on_event_(user_, RG_EVENT_WRITTEN, nullptr, 0);
        if (!ok) CloseOutside();  // the stream is broken
        Pump();
    }

    void OnWritesDoneDone(bool) override {}

    void OnDone(const grpc::Status &status) override {
        {
            std::lock_guard<std::mutex> lock(mu_);
            status_code_ = static_cast<int32_t>(status.error_code());
            status_message_ = status.error_message();
        }
        on_event_(user_, RG_EVENT_FINISHED, nullptr, 0);
        bool last;
        {
            std::lock_guard<std::mutex> lock(mu_);
            last = --refs_ == 0;
        }
        if (last) Destroy(this);
    }

  private:
    ~rg_client_stream() override = default;

    // Frees the stream, then hands its channel reference to the reaper (the context goes first).
    static void Destroy(rg_client_stream *stream) {
        std::shared_ptr<grpc::Channel> channel = std::move(stream->channel_);
        delete stream;
        ChannelReaper::Shared().Release(std::move(channel));
    }

    // No more reads or writes will be started; queued writes are dropped (each still reported).
    void CloseOutside() {
        size_t dropped;
        {
            std::lock_guard<std::mutex> lock(mu_);
            outside_closed_ = true;
            dropped = queue_.size();
            queue_.clear();
        }
        for (size_t i = 0; i < dropped; i++) on_event_(user_, RG_EVENT_WRITTEN, nullptr, 0);
    }

    void Pump() {
        std::unique_lock<std::mutex> lock(mu_);
        if (pumping_) return;
        pumping_ = true;
        for (;;) {
            bool read = false, write = false, close = false, remove_hold = false;
            if (!outside_closed_) {
                if (read_wanted_ && !reading_ && !read_closed_) {
                    read_wanted_ = false;
                    reading_ = read = true;
                }
                if (!writing_) {
                    if (!queue_.empty()) {
                        write_buffer_ = std::move(queue_.front());
                        queue_.pop_front();
                        writing_ = write = true;
                    } else if (close_requested_ && !closed_) {
                        closed_ = close = true;
                    }
                }
            } else if (!hold_removed_) {
                hold_removed_ = remove_hold = true;
            }
            if (!read && !write && !close) {
                pumping_ = false;
                lock.unlock();
                if (remove_hold) RemoveHold();  // last act: OnDone (and deletion) may follow at once
                return;
            }
            lock.unlock();
            if (read) StartRead(&read_buffer_);
            if (write) StartWrite(&write_buffer_);
            if (close) StartWritesDone();
            lock.lock();
        }
    }

    std::shared_ptr<grpc::Channel> channel_;
    rg_stream_event_fn on_event_;
    void *user_;
    grpc::ClientContext context_;
    std::mutex mu_;
    int refs_ = 2;  // grpc + embedder
    bool read_wanted_ = false, reading_ = false, read_closed_ = false;
    bool writing_ = false, close_requested_ = false, closed_ = false;
    bool outside_closed_ = false, hold_removed_ = false, pumping_ = false;
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
        // Each client owns its connections. With grpc's default process-wide subchannel pool, a new
        // client inherits the backoff state of an old one's connection to the same address (e.g. a
        // restarted server on a reused port) and its first calls fail fast with UNAVAILABLE.
        args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
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
    rg::GuardedVoid([&] { delete client; });
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
                           std::shared_ptr<grpc::Channel> channel = std::move(owned->channel);
                           owned.reset();  // the context before the channel
                           ChannelReaper::Shared().Release(std::move(channel));
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
    return rg::Guarded([&] { return stream->Write(bytes, len); });
}

int rg_client_stream_request_read(rg_client_stream *stream) {
    if (stream == nullptr) return RG_ERR_INVALID;
    return rg::Guarded([&] { return stream->RequestRead(); });
}

int rg_client_stream_close_send(rg_client_stream *stream) {
    if (stream == nullptr) return RG_ERR_INVALID;
    return rg::Guarded([&] { return stream->CloseSend(); });
}

void rg_client_stream_cancel(rg_client_stream *stream) {
    if (stream == nullptr) return;
    rg::GuardedVoid([&] { stream->Cancel(); });
}

int32_t rg_client_stream_status(rg_client_stream *stream, const char **message) {
    if (stream == nullptr) return RG_ERR_INVALID;
    return stream->Status(message);
}

void rg_client_stream_release(rg_client_stream *stream) {
    if (stream == nullptr) return;
    rg::GuardedVoid([&] { stream->Release(); });
}

}  // extern "C"
