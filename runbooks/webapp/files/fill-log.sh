# $1 the log file. The runaway writer: a debug line over and over until the filesystem under the log is full.
set -u
yes 'DEBUG app: upstream cache miss, retrying' >> "$1" 2>/dev/null || true
