// LeakSanitizer's defaults for the sanitized build (MLCTL_SANITIZE), compiled into every program
// of that build. Only leaks inside libraries mlctl links are suppressed, never mlctl's own code,
// each with its upstream fix named.

extern "C" {

// Suppressed leaks are not listed at exit: tests compare what mlctl prints on stderr.
const char* __lsan_default_options() { return "print_suppressions=0"; }

// libgit2 1.5 (Debian 12) does not free the PCRE2 match data of a regular expression that does
// not match: every git_remote_lookup and config lookup by pattern leaks about 100 bytes, plus the
// match's work space. Fixed upstream by libgit2/libgit2#6382 (merged 2022-09). PCRE2 is built
// without frame pointers, so the fast unwinder sees only the library: matched by its file name.
// libgit2 is the only user of PCRE2 in mlctl's processes.
const char* __lsan_default_suppressions() { return "leak:libpcre2-8.so\n"; }
}
