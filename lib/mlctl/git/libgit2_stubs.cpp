// libgit2's functions that mlctl calls, loaded on first use (see core/lazy_library.hpp).
#include <mlctl/core/lazy_library.hpp>

#include <git2.h>

namespace {

mlctl::core::LazyLibrary& libgit2() {
  static mlctl::core::LazyLibrary library("libgit2.so." LIBGIT2_SOVERSION);
  return library;
}

}  // namespace

extern "C" {

int git_libgit2_init() {
  MLCTL_REAL_FUNCTION(libgit2(), git_libgit2_init);
  return real();
}

const git_error* git_error_last() {
  MLCTL_REAL_FUNCTION(libgit2(), git_error_last);
  return real();
}

int git_repository_open_ext(git_repository** out, const char* path, unsigned int flags, const char* ceiling_dirs) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_open_ext);
  return real(out, path, flags, ceiling_dirs);
}

void git_repository_free(git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_free);
  real(repository);
}

int git_repository_is_bare(const git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_is_bare);
  return real(repository);
}

const char* git_repository_workdir(const git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_workdir);
  return real(repository);
}

int git_repository_head(git_reference** out, git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_head);
  return real(out, repository);
}

int git_repository_head_detached(git_repository* repository) {
  MLCTL_REAL_FUNCTION(libgit2(), git_repository_head_detached);
  return real(repository);
}

int git_reference_lookup(git_reference** out, git_repository* repository, const char* name) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_lookup);
  return real(out, repository, name);
}

const char* git_reference_symbolic_target(const git_reference* reference) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_symbolic_target);
  return real(reference);
}

const char* git_reference_shorthand(const git_reference* reference) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_shorthand);
  return real(reference);
}

int git_reference_peel(git_object** out, const git_reference* reference, git_object_t type) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_peel);
  return real(out, reference, type);
}

void git_reference_free(git_reference* reference) {
  MLCTL_REAL_FUNCTION(libgit2(), git_reference_free);
  real(reference);
}

const git_oid* git_commit_id(const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_id);
  return real(commit);
}

git_time_t git_commit_time(const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_time);
  return real(commit);
}

const git_signature* git_commit_author(const git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_author);
  return real(commit);
}

void git_commit_free(git_commit* commit) {
  MLCTL_REAL_FUNCTION(libgit2(), git_commit_free);
  real(commit);
}

char* git_oid_tostr(char* out, size_t size, const git_oid* id) {
  MLCTL_REAL_FUNCTION(libgit2(), git_oid_tostr);
  return real(out, size, id);
}

int git_status_list_new(git_status_list** out, git_repository* repository, const git_status_options* options) {
  MLCTL_REAL_FUNCTION(libgit2(), git_status_list_new);
  return real(out, repository, options);
}

size_t git_status_list_entrycount(git_status_list* list) {
  MLCTL_REAL_FUNCTION(libgit2(), git_status_list_entrycount);
  return real(list);
}

void git_status_list_free(git_status_list* list) {
  MLCTL_REAL_FUNCTION(libgit2(), git_status_list_free);
  real(list);
}

int git_remote_lookup(git_remote** out, git_repository* repository, const char* name) {
  MLCTL_REAL_FUNCTION(libgit2(), git_remote_lookup);
  return real(out, repository, name);
}

const char* git_remote_url(const git_remote* remote) {
  MLCTL_REAL_FUNCTION(libgit2(), git_remote_url);
  return real(remote);
}

void git_remote_free(git_remote* remote) {
  MLCTL_REAL_FUNCTION(libgit2(), git_remote_free);
  real(remote);
}

int git_config_open_default(git_config** out) {
  MLCTL_REAL_FUNCTION(libgit2(), git_config_open_default);
  return real(out);
}

int git_config_get_string_buf(git_buf* out, const git_config* config, const char* name) {
  MLCTL_REAL_FUNCTION(libgit2(), git_config_get_string_buf);
  return real(out, config, name);
}

void git_config_free(git_config* config) {
  MLCTL_REAL_FUNCTION(libgit2(), git_config_free);
  real(config);
}

void git_buf_dispose(git_buf* buffer) {
  MLCTL_REAL_FUNCTION(libgit2(), git_buf_dispose);
  real(buffer);
}

}  // extern "C"
