// Parsers for the blocks that scrape and remote-write configs share: the inline HTTP client
// keys (authorization, basic_auth, tls_config, proxy_*, ...), relabel lists, and label-name
// checks (blocks.cc); and the remote_write entry parser (remote_write.cc). Internal to config/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/yaml_util.h"

namespace sb::config::internal {

// Adds the inline HTTP client keys (known and unsupported) to `keys`.
void AddHttpClientKeys(KeySet* keys);

// Reads the HTTP client keys of block `m` into `out` and validates them (mutually exclusive
// credentials, TLS key/cert pairs, proxy settings). Legacy bearer_token(_file) becomes an
// authorization block of type Bearer.
Status ParseHttpClient(const MapView& m, HttpClientConfig* out);

// Reads the relabel list under `key` of `m` (absent = empty). Validates actions, regexes
// (RE2, anchored as Prometheus does) and the fields each action requires.
Status ParseRelabelList(const MapView& m, std::string_view key, std::vector<RelabelConfig>* out);

// Resolves relative file paths of `c` against `dir` (no-op if `dir` is empty).
void ResolveHttpClientPaths(const std::string& dir, HttpClientConfig* c);

// Keys of one remote_write entry, and its parser (validates and fills `rw`).
const KeySet& RemoteWriteKeys();
Status ParseRemoteWrite(const MapView& m, RemoteWriteConfig* rw);

// Label names as Prometheus 2 validates them: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(std::string_view name);

// Checks that `url` is an absolute http(s) URL with a host. Returns an error text or "".
std::string CheckHttpUrl(std::string_view url, bool allow_socks);

}  // namespace sb::config::internal
