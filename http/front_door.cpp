#include "http/front_door.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <httplib.h>

#include "http/admission.hpp"
#include "http/request_framing.hpp"

namespace callq::http {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Where a connection is in its life; the reactor owns every phase but
/// `busy`, during which a worker (or the admission queue) holds it.
enum class phase {
  fresh,     ///< accepted, no byte yet: header deadline runs from accept
  headers,   ///< part of a request line or headers in
  body,      ///< headers in, body incomplete
  idle,      ///< keep-alive, between requests
  busy,      ///< complete request waiting for or held by a worker
  draining,  ///< error answer sent, discarding input until the peer closes
};

struct connection {
  uint64_t id = 0;
  int fd = -1;
  std::string peer_ip, local_ip;
  int peer_port = 0, local_port = 0;
  std::string in;          ///< bytes read and not yet served
  size_t counted = 0;      ///< bytes of `in` in the front door's buffered total
  /// Who owns the rest: a worker while `busy`, the reactor otherwise. A
  /// worker hands a kept-alive connection back by storing `idle` last.
  std::atomic<phase> ph{phase::fresh};
  std::atomic<int64_t> deadline_ms{0};
  bool in_epoll = false;
  bool continue_sent = false;  ///< the front door answered "100 Continue"
  bool peer_closed = false;
  size_t served = 0;
  size_t request_bytes = 0;  ///< length of the request a worker serves
  route_group group = route_group::page;
  bool keep = false;  ///< the worker's verdict: keep the connection open
};

std::string address_of(const sockaddr_storage& a, int* port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    *port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    *port = ntohs(v6->sin6_port);
  }
  return text;
}

/// Writes what fits now, without waiting (short answers from the reactor).
void send_now(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
      done += static_cast<size_t>(n);
    else if (n < 0 && errno == EINTR)
      continue;
    else
      return;
  }
}

std::string error_answer(int code, const char* status_text, const std::string& why, bool retry) {
  std::string body = "{\"error\":\"" + why + "\"}";
  std::string out = "HTTP/1.1 " + std::to_string(code) + " " + status_text +
                    "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (retry)
    out += "Retry-After: 1\r\n";
  return out + "\r\n" + body;
}

/// A complete, buffered request as cpp-httplib's Stream: reads come from
/// the buffer (never past this request), writes go to the socket and wait
/// at most the write timeout for each stall.
class buffered_stream final : public httplib::Stream {
 public:
  buffered_stream(connection& c, int64_t write_timeout_ms)
      : c_(c), write_timeout_ms_(static_cast<int>(write_timeout_ms)) {}

  bool is_readable() const override { return pos_ < c_.request_bytes; }
  /// Writable, and the peer has not closed (a live stream learns so
  /// between its writes).
  bool is_writable() const override {
    pollfd p{c_.fd, POLLOUT | POLLIN, 0};
    if (::poll(&p, 1, write_timeout_ms_) != 1 || (p.revents & (POLLERR | POLLHUP)) != 0)
      return false;
    char b = 0;
    if ((p.revents & POLLIN) != 0 && ::recv(c_.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
      return false;  // end of stream: the client went away
    return (p.revents & POLLOUT) != 0;
  }
  ssize_t read(char* ptr, size_t size) override {
    size_t n = std::min(size, c_.request_bytes - pos_);
    std::memcpy(ptr, c_.in.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    bool first = !wrote_;
    wrote_ = true;
    if (first && c_.continue_sent && std::string_view(ptr, size) == interim)
      return static_cast<ssize_t>(size);  // the front door already sent it
    size_t done = 0;
    while (done < size) {
      auto n = ::send(c_.fd, ptr + done, size - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{c_.fd, POLLOUT, 0};
        if (::poll(&p, 1, write_timeout_ms_) != 1)
          return -1;
      } else {
        return -1;
      }
    }
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.peer_ip;
    port = c_.peer_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local_ip;
    port = c_.local_port;
  }
  socket_t socket() const override { return c_.fd; }

 private:
  connection& c_;
  int write_timeout_ms_;
  size_t pos_ = 0;
  bool wrote_ = false;
};

constexpr uint64_t listener_tag = 0, wake_tag = 1;

}  // namespace

struct front_door::impl {
  impl(front_door_settings settings, request_processor p, backlog_sink b)
      : s(settings), process(std::move(p)), backlog(std::move(b)),
        adm(default_admission_limits(settings.threads)) {}

  front_door_settings s;
  request_processor process;
  backlog_sink backlog;
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
  std::atomic<bool> stopping{false};

  // Owned by the reactor thread.
  std::unordered_map<uint64_t, std::unique_ptr<connection>> conns;
  std::unordered_map<std::string, size_t> per_address;
  uint64_t next_id = 2;
  std::atomic<size_t> buffered{0};
  std::atomic<size_t> busy_conns{0};
  bool listener_armed = true;
  int64_t rearm_at = 0;
  bool stop_began = false;

  // Shared with the workers, under `mu`.
  mutable std::mutex mu;
  std::condition_variable work_cv;
  admission adm;
  std::vector<connection*> returned;
  bool workers_exit = false;
  int idle_workers = 0;   ///< workers waiting on work_cv
  int lingering = 0;      ///< workers waiting on their connection's next request
  bool demand = false;    ///< `demand_fd` is readable: lingering workers are wanted
  int demand_fd = -1;     ///< eventfd every lingering worker polls beside its socket
  std::vector<std::thread> workers;

  // Counters, read by figures() from any thread.
  std::atomic<size_t> open{0};
  std::atomic<uint64_t> refused_per_address{0}, refused_total{0}, closed_header{0}, closed_body{0},
      closed_idle{0}, too_large{0}, bad{0}, served_lingering{0};
  std::array<std::atomic<uint64_t>, route_group_count> served{}, shed{};

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  /// Calls lingering workers back (under `mu`): a request waits that no
  /// idle worker will take, or the front door stops.
  void want_lingerers() {
    if (lingering > 0)
      raise_demand();
  }

  /// Makes `demand_fd` readable (under `mu`): lingering workers return, and
  /// no worker starts lingering until it is cleared.
  void raise_demand() {
    if (demand)
      return;
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(demand_fd, &one, sizeof one);
    demand = true;
  }

  /// Clears the call-back (under `mu`) once no request waits.
  void settle_demand() {
    if (!demand || any_waiting() || stopping.load())
      return;
    uint64_t count;
    [[maybe_unused]] auto n = ::read(demand_fd, &count, sizeof count);
    demand = false;
  }

  bool any_waiting() const {
    for (auto g : all_route_groups)
      if (adm.waiting(g) > 0)
        return true;
    return false;
  }

  void watch(connection& c) {
    if (c.in_epoll)
      return;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = c.id;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev);
    c.in_epoll = true;
  }

  void unwatch(connection& c) {
    if (!c.in_epoll)
      return;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    c.in_epoll = false;
  }

  void recount(connection& c) {
    buffered -= c.counted;
    c.counted = c.in.size();
    buffered += c.counted;
  }

  void close_conn(connection& c) {
    unwatch(c);
    ::close(c.fd);
    if (auto it = per_address.find(c.peer_ip); it != per_address.end() && --it->second == 0)
      per_address.erase(it);
    buffered -= c.counted;
    open.store(conns.size() - 1, std::memory_order_relaxed);
    conns.erase(c.id);  // destroys c
  }

  /// Answers with an error, stops sending and discards what the client
  /// still sends for a moment, so that the answer is not lost to a reset.
  void reply_and_close(connection& c, const std::string& answer, int64_t t) {
    send_now(c.fd, answer);
    ::shutdown(c.fd, SHUT_WR);
    c.ph = phase::draining;
    c.deadline_ms = t + 1000;
    c.in.clear();
    recount(c);
    watch(c);
  }

  void shed_request(connection& c, int64_t t) {
    --busy_conns;
    shed[static_cast<size_t>(c.group)].fetch_add(1, std::memory_order_relaxed);
    reply_and_close(c,
                    error_answer(503, "Service Unavailable",
                                 std::string("server busy: too many ") + route_group_name(c.group) +
                                     " requests waiting; retry shortly",
                                 true),
                    t);
  }

  void accept_all(int64_t t) {
    for (;;) {
      sockaddr_storage a{};
      socklen_t len = sizeof a;
      int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&a), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED)
          continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          refused_total.fetch_add(1, std::memory_order_relaxed);
          epoll_event ev{};
          ev.data.u64 = listener_tag;
          epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);  // no events for a moment
          listener_armed = false;
          rearm_at = t + 100;
        }
        return;
      }
      int port = 0;
      auto ip = address_of(a, &port);
      if (conns.size() >= s.max_connections) {
        refused_total.fetch_add(1, std::memory_order_relaxed);
        ::close(fd);
        continue;
      }
      auto& count = per_address[ip];
      if (count >= s.max_connections_per_address) {
        refused_per_address.fetch_add(1, std::memory_order_relaxed);
        ::close(fd);
        continue;
      }
      ++count;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<connection>();
      c->id = next_id++;
      c->fd = fd;
      c->peer_ip = std::move(ip);
      c->peer_port = port;
      sockaddr_storage local{};
      socklen_t local_len = sizeof local;
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) == 0)
        c->local_ip = address_of(local, &c->local_port);
      c->deadline_ms = t + s.header_timeout_ms;
      watch(*c);
      conns.emplace(c->id, std::move(c));
      open.store(conns.size(), std::memory_order_relaxed);
    }
  }

  void on_readable(connection& c, int64_t t) {
    char buf[65536];
    size_t this_round = 0;
    for (;;) {
      auto n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (c.ph == phase::draining)
          continue;
        if (buffered + static_cast<size_t>(n) > s.max_buffered_bytes) {
          reply_and_close(c, error_answer(503, "Service Unavailable", "server busy: too much buffered input", true), t);
          return;
        }
        c.in.append(buf, static_cast<size_t>(n));
        recount(c);
        this_round += static_cast<size_t>(n);
        if (this_round >= 256 * 1024)
          break;  // frame what we have; level-triggered epoll brings the rest
        continue;
      }
      if (n == 0) {
        c.peer_closed = true;
        break;
      }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      close_conn(c);
      return;
    }
    if (c.ph == phase::draining) {
      if (c.peer_closed)
        close_conn(c);
      return;
    }
    advance(c, t);
  }

  /// Frames what `c` has buffered and acts on it.
  void advance(connection& c, int64_t t) {
    // Empty lines before a request line are ignored (RFC 9112, 2.2).
    size_t blank = c.in.find_first_not_of("\r\n");
    if (blank != 0) {
      c.in.erase(0, blank == std::string::npos ? c.in.size() : blank);
      recount(c);
    }
    if (c.in.empty()) {
      if (c.peer_closed)
        close_conn(c);
      return;
    }
    auto f = frame_request(c.in, s.max_header_bytes, s.max_body_bytes);
    switch (f.state) {
      case frame_state::need_more:
        if (c.peer_closed) {
          close_conn(c);
          return;
        }
        if (c.ph == phase::idle)
          c.deadline_ms = t + s.header_timeout_ms;
        if (c.ph == phase::idle || c.ph == phase::fresh)
          c.ph = phase::headers;
        if (f.headers_done && c.ph == phase::headers) {
          c.ph = phase::body;
          c.deadline_ms = t + s.body_timeout_ms;
        }
        if (f.headers_done && f.expects_continue && !c.continue_sent) {
          send_now(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
          c.continue_sent = true;
        }
        return;
      case frame_state::complete:
        dispatch(c, f, t);
        return;
      case frame_state::headers_too_large:
        too_large.fetch_add(1, std::memory_order_relaxed);
        reply_and_close(c, error_answer(431, "Request Header Fields Too Large", f.reason, false), t);
        return;
      case frame_state::body_too_large:
        too_large.fetch_add(1, std::memory_order_relaxed);
        reply_and_close(c, error_answer(413, "Payload Too Large", f.reason, false), t);
        return;
      case frame_state::bad_request:
        bad.fetch_add(1, std::memory_order_relaxed);
        reply_and_close(c, error_answer(400, "Bad Request", f.reason, false), t);
        return;
    }
  }

  void dispatch(connection& c, const request_frame& f, int64_t t) {
    c.request_bytes = f.total_bytes;
    c.group = classify_route(f.target);
    c.ph = phase::busy;
    ++busy_conns;
    unwatch(c);
    bool queued;
    {
      std::lock_guard<std::mutex> lock(mu);
      queued = adm.offer(c.group, reinterpret_cast<uintptr_t>(&c), t);
      if (queued && idle_workers == 0)
        want_lingerers();
    }
    if (!queued) {
      shed_request(c, t);
      return;
    }
    work_cv.notify_one();
  }

  void take_returned(int64_t t) {
    std::vector<connection*> back;
    {
      std::lock_guard<std::mutex> lock(mu);
      back.swap(returned);
    }
    for (auto* c : back) {
      --busy_conns;
      recount(*c);
      if (!c->keep || stop_began) {
        close_conn(*c);
        continue;
      }
      c->ph = phase::idle;
      c->continue_sent = false;
      c->deadline_ms = t + s.idle_timeout_ms;
      watch(*c);
      advance(*c, t);  // a pipelined request, or the peer's close
    }
  }

  void sweep(int64_t t) {
    std::vector<admission_ticket> late;
    int64_t twilio_wait = 0, agent_wait = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      late = adm.expire(t);
      twilio_wait = adm.oldest_wait_ms(route_group::twilio, t);
      agent_wait = adm.oldest_wait_ms(route_group::agent, t);
    }
    if (backlog)
      backlog(twilio_wait, agent_wait);
    for (auto& tk : late)
      shed_request(*reinterpret_cast<connection*>(tk.job), t);
    if (!listener_armed && t >= rearm_at && !stop_began) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = listener_tag;
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
      listener_armed = true;
    }
    std::vector<connection*> due;
    for (auto& [id, c] : conns)
      if (c->ph != phase::busy && t >= c->deadline_ms)
        due.push_back(c.get());
    for (auto* c : due) {
      switch (c->ph) {
        case phase::fresh:
          closed_header.fetch_add(1, std::memory_order_relaxed);
          break;
        case phase::headers:
          closed_header.fetch_add(1, std::memory_order_relaxed);
          send_now(c->fd, error_answer(408, "Request Timeout", "request headers not received in time", false));
          break;
        case phase::body:
          closed_body.fetch_add(1, std::memory_order_relaxed);
          send_now(c->fd, error_answer(408, "Request Timeout", "request body not received in time", false));
          break;
        case phase::idle:
          closed_idle.fetch_add(1, std::memory_order_relaxed);
          break;
        case phase::busy:
        case phase::draining:
          break;
      }
      close_conn(*c);
    }
  }

  void begin_stop() {
    stop_began = true;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    ::close(listen_fd);
    listen_fd = -1;
    std::vector<connection*> idle;
    for (auto& [id, c] : conns)
      if (c->ph != phase::busy)
        idle.push_back(c.get());
    for (auto* c : idle)
      close_conn(*c);
  }

  void serve(connection& c) {
    buffered_stream strm(c, s.write_timeout_ms);
    bool close_after = c.peer_closed || c.served + 1 >= s.keep_alive_max_requests ||
                       stopping.load(std::memory_order_relaxed);
    bool closed = false;
    bool ok = process(strm, close_after, closed);
    c.in.erase(0, c.request_bytes);
    ++c.served;
    served[static_cast<size_t>(c.group)].fetch_add(1, std::memory_order_relaxed);
    c.keep = ok && !closed && !close_after;
  }

  /// Gives a kept-alive connection with nothing buffered back to the
  /// reactor without a trip through it (from a worker).
  void hand_back_idle(connection& c, int64_t idle_since) {
    buffered -= c.counted;
    c.counted = 0;
    c.continue_sent = false;
    c.deadline_ms = idle_since + s.idle_timeout_ms;
    watch(c);
    c.ph.store(phase::idle, std::memory_order_release);  // the reactor's from here on
    --busy_conns;
  }

  enum class linger_end { request, hand_back, idle };

  /// Waits up to linger_ms on kept-alive `c` (empty buffer) for its next
  /// request, reading it without the reactor. `request`: a complete one is
  /// buffered (its size and group set). `hand_back`: something else came
  /// (part of a request, bad framing, the peer's close): the reactor takes
  /// it from here. `idle`: nothing came in time, or other requests want
  /// this thread, or the front door stops.
  linger_end linger(connection& c) {
    pollfd fds[2] = {{c.fd, POLLIN | POLLRDHUP, 0}, {demand_fd, POLLIN, 0}};
    int64_t until = now_ms() + s.linger_ms;
    for (;;) {
      int64_t left = until - now_ms();
      if (left <= 0)
        return linger_end::idle;
      int n = ::poll(fds, 2, static_cast<int>(left));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || (fds[1].revents & POLLIN) != 0)
        return linger_end::idle;
      char buf[16384];
      if (buffered + sizeof buf > s.max_buffered_bytes)
        return linger_end::hand_back;  // unread: the reactor reads it and answers 503
      auto got = ::recv(c.fd, buf, sizeof buf, 0);
      if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        continue;
      if (got <= 0) {
        c.peer_closed = true;
        return linger_end::hand_back;
      }
      c.in.append(buf, static_cast<size_t>(got));
      recount(c);
      if (c.in[0] == '\r' || c.in[0] == '\n')
        return linger_end::hand_back;  // blank lines first: the reactor skips them
      auto f = frame_request(c.in, s.max_header_bytes, s.max_body_bytes);
      if (f.state != frame_state::complete)
        return linger_end::hand_back;
      c.request_bytes = f.total_bytes;
      c.group = classify_route(f.target);
      return linger_end::request;
    }
  }

  void worker() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      admission_ticket tk;
      ++idle_workers;
      work_cv.wait(lock, [&] { return workers_exit || adm.next(&tk); });
      --idle_workers;
      if (workers_exit)
        return;
      settle_demand();
      lock.unlock();
      auto* c = reinterpret_cast<connection*>(tk.job);
      for (;;) {
        serve(*c);
        bool kept = c->keep && c->in.empty() && !stopping.load();
        int64_t done_at = now_ms();
        lock.lock();
        adm.finished(tk.group);
        // Linger while no request waits for a thread and some workers stay
        // idle for the reactor's other connections.
        bool may_linger = kept && s.linger_ms > 0 && !demand && !any_waiting() &&
                          idle_workers > std::max(2, s.threads / 16);
        if (!may_linger) {
          if (!kept) {
            returned.push_back(c);
            wake();
          }
          lock.unlock();
          if (kept)
            hand_back_idle(*c, done_at);
          lock.lock();
          break;
        }
        ++lingering;
        lock.unlock();
        auto end = linger(*c);
        lock.lock();
        --lingering;
        if (end == linger_end::idle && !stopping.load()) {
          lock.unlock();
          hand_back_idle(*c, done_at);  // nothing came: `in` is still empty
          lock.lock();
          break;
        }
        if (end != linger_end::request) {
          // Something for the reactor (its deadlines, framing, the close),
          // or the front door stops and the reactor closes it.
          c->keep = end == linger_end::hand_back;
          returned.push_back(c);
          wake();
          break;
        }
        // A complete request: it waits its turn like any other, and this
        // thread serves whichever request may start first.
        if (!adm.offer(c->group, reinterpret_cast<uintptr_t>(c), now_ms())) {
          c->keep = true;  // the reactor frames it again and sheds it
          returned.push_back(c);
          wake();
          break;
        }
        if (!adm.next(&tk))
          break;  // c waits for a thread like any other request
        if (tk.job == reinterpret_cast<uintptr_t>(c)) {
          served_lingering.fetch_add(1, std::memory_order_relaxed);
        } else {
          work_cv.notify_one();  // c still waits; an idle worker may take it
          if (idle_workers == 0)
            want_lingerers();
        }
        settle_demand();
        lock.unlock();
        c = reinterpret_cast<connection*>(tk.job);
      }
    }
  }

  void run() {
    for (int i = 0; i < s.threads; ++i)
      workers.emplace_back([this] { worker(); });
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = listener_tag;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
    ev.data.u64 = wake_tag;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
    std::vector<epoll_event> events(512);
    int64_t last_sweep = now_ms();
    for (;;) {
      int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 50);
      int64_t t = now_ms();
      for (int i = 0; i < n; ++i) {
        auto tag = events[static_cast<size_t>(i)].data.u64;
        if (tag == listener_tag) {
          if (!stop_began)
            accept_all(t);
        } else if (tag == wake_tag) {
          uint64_t count;
          [[maybe_unused]] auto r = ::read(wake_fd, &count, sizeof count);
        } else if (auto it = conns.find(tag); it != conns.end() && it->second->ph != phase::busy) {
          on_readable(*it->second, t);
        }
      }
      take_returned(t);
      if (t - last_sweep >= 100) {
        sweep(t);
        last_sweep = t;
      }
      if (stopping.load() && !stop_began)
        begin_stop();
      if (stop_began && busy_conns == 0)
        break;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      workers_exit = true;
    }
    work_cv.notify_all();
    for (auto& w : workers)
      w.join();
    workers.clear();
    std::vector<connection*> rest;
    for (auto& [id, c] : conns)
      rest.push_back(c.get());
    for (auto* c : rest)
      close_conn(*c);
  }
};

front_door::front_door(front_door_settings settings, request_processor process, backlog_sink backlog)
    : impl_(std::make_unique<impl>(settings, std::move(process), std::move(backlog))) {
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  impl_->demand_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

front_door::~front_door() {
  if (impl_->listen_fd >= 0)
    ::close(impl_->listen_fd);
  ::close(impl_->epoll_fd);
  ::close(impl_->wake_fd);
  ::close(impl_->demand_fd);
}

status front_door::bind(const std::string& host, int port, int* bound) {
  // Every connection is a descriptor: use all the process may have.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto where = host + ":" + std::to_string(port);
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
    return status::io_error("cannot bind to " + where + ": unknown address");
  int fd = -1;
  std::string why = "no usable address";
  for (auto* a = found; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0)
      break;
    why = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0)
    return status::io_error("cannot bind to " + where + ": " + why);
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  address_of(local, bound);
  impl_->listen_fd = fd;
  return status::ok();
}

void front_door::run() { impl_->run(); }

void front_door::stop() {
  impl_->stopping.store(true);
  {
    // Lingering workers give their connections back at once.
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->raise_demand();
  }
  impl_->wake();
}

front_door_figures front_door::figures() const {
  front_door_figures f;
  auto& i = *impl_;
  f.connections_open = i.open.load(std::memory_order_relaxed);
  f.buffered_bytes = i.buffered.load(std::memory_order_relaxed);
  f.refused_per_address = i.refused_per_address.load(std::memory_order_relaxed);
  f.refused_total = i.refused_total.load(std::memory_order_relaxed);
  f.closed_header_timeout = i.closed_header.load(std::memory_order_relaxed);
  f.closed_body_timeout = i.closed_body.load(std::memory_order_relaxed);
  f.closed_idle = i.closed_idle.load(std::memory_order_relaxed);
  f.rejected_too_large = i.too_large.load(std::memory_order_relaxed);
  f.rejected_bad = i.bad.load(std::memory_order_relaxed);
  f.served_lingering = i.served_lingering.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(i.mu);
  f.idle_workers = i.idle_workers;
  for (auto g : all_route_groups) {
    auto k = static_cast<size_t>(g);
    f.waiting[k] = i.adm.waiting(g);
    f.busy[k] = i.adm.busy(g);
    f.served[k] = i.served[k].load(std::memory_order_relaxed);
    f.shed[k] = i.shed[k].load(std::memory_order_relaxed);
  }
  return f;
}

}  // namespace callq::http
