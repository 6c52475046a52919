#!/bin/bash
# Malformed requests with curl against the metaserver and a chunk server:
# each gets a 4xx with a JSON body {"error": "E...", "message": "<non-empty>"}
# and afterwards every server still serves (/health 200, put/get works).
. "$(dirname "$0")/lib.sh"

RFS_CASES="malformed_meta_control malformed_meta_bad_json
malformed_meta_wrong_types malformed_meta_dotdot_name
malformed_meta_long_name malformed_meta_oversized malformed_meta_wrong_method
malformed_meta_unknown_path malformed_meta_unknown_op
malformed_meta_bad_register malformed_chunk_unknown_id
malformed_chunk_bad_id malformed_chunk_bad_crc malformed_chunk_no_crc
malformed_chunk_wrong_method malformed_chunk_unknown_path
malformed_chunk_bad_range malformed_still_serving"
rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
META=http://127.0.0.1:${RFS_PORT[meta]}
CS=http://127.0.0.1:${RFS_PORT[cs1]}
ROOT=$(printf '%016x' 1)
UNKNOWN_CHUNK=00000000deadbeef

# expect_4xx WHAT CODE: CODE is 4xx (or exactly WANT if given as $3) and
# the body is {"error": "E...", "message": "non-empty"}.
expect_4xx() {
	local what=$1 code=$2 want=${3:-} body
	body=$(head -c 400 "$RFS_TMP/http.body" | tr '\n' ' ')
	case $code in
	4??) ;;
	*) fail "$what: HTTP $code, want 4xx (body: $body)"; return ;;
	esac
	[ -z "$want" ] || [ "$code" = "$want" ] ||
		fail "$what: HTTP $code, want $want (body: $body)"
	grep -qE '"error"[[:space:]]*:[[:space:]]*"E[A-Z0-9]+"' "$RFS_TMP/http.body" ||
		fail "$what: no \"error\": \"E...\" in the body: $body"
	grep -qE '"message"[[:space:]]*:[[:space:]]*"[^"]' "$RFS_TMP/http.body" ||
		fail "$what: no non-empty \"message\" in the body: $body"
	[ -z "$RFS_REASON" ]
}

# post_ns OP JSON: POST a namespace op to the metaserver; prints the code.
post_ns() {
	rfs_http POST "$META/v1/ns/$1" -H 'Content-Type: application/json' \
		--data-binary "$2"
}

case_meta_control() {
	# A well-formed mkdir through the same curl path succeeds, so the
	# refusals below are about what is wrong, not about the harness.
	local code
	code=$(post_ns mkdir "{\"parent\":\"$ROOT\",\"name\":\"okdir\",\"mode\":493}")
	case $code in 2??) ;; *) fail "well-formed mkdir: HTTP $code:" \
		"$(head -c 300 "$RFS_TMP/http.body" | tr "\n" " ")"; return ;; esac
	rfs_cli stat /okdir || fail "well-formed mkdir by curl not visible"
}

case_meta_bad_json() {
	expect_4xx "bad JSON" "$(post_ns mkdir '{"parent": "0000000000000001", "name": ')" 400 &&
		expect_4xx "not JSON" "$(post_ns lookup 'hello world')" 400 &&
		expect_4xx "empty body" "$(post_ns mkdir '')" 400
}

case_meta_wrong_types() {
	expect_4xx "parent as object" "$(post_ns mkdir '{"parent":{},"name":"x","mode":493}')" 400 &&
		expect_4xx "mode as string" "$(post_ns mkdir "{\"parent\":\"$ROOT\",\"name\":\"x\",\"mode\":\"rwx\"}")" 400 &&
		expect_4xx "JSON array" "$(post_ns mkdir '[1,2,3]')" 400
}

case_meta_dotdot_name() {
	expect_4xx "mkdir '..'" "$(post_ns mkdir "{\"parent\":\"$ROOT\",\"name\":\"..\",\"mode\":493}")" 400 &&
		expect_4xx "mkdir '.'" "$(post_ns mkdir "{\"parent\":\"$ROOT\",\"name\":\".\",\"mode\":493}")" 400 &&
		expect_4xx "mkdir 'a/b'" "$(post_ns mkdir "{\"parent\":\"$ROOT\",\"name\":\"a/b\",\"mode\":493}")" 400 &&
		expect_4xx "mkdir ''" "$(post_ns mkdir "{\"parent\":\"$ROOT\",\"name\":\"\",\"mode\":493}")" 400
}

case_meta_long_name() {
	local name
	name=$(printf 'n%.0s' $(seq 1 300))
	expect_4xx "mkdir of a 300-byte name" \
		"$(post_ns mkdir "{\"parent\":\"$ROOT\",\"name\":\"$name\",\"mode\":493}")" 400 || return
	grep -q ENAMETOOLONG "$RFS_TMP/http.body" ||
		fail "300-byte name: error is not ENAMETOOLONG"
	# Through the CLI too: refused, nothing created.
	rfs_cli mkdir "/$name" && fail "ringfs mkdir of a 300-byte name succeeded"
	rfs_cli ls / && out_has_token "$name" && fail "300-byte name was created"
	[ -z "$RFS_REASON" ]
}

case_meta_oversized() {
	head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$W/big.json"
	expect_4xx "2 MiB POST" "$(rfs_http POST "$META/v1/ns/mkdir" \
		-H 'Content-Type: application/json' --data-binary "@$W/big.json")" 413
}

case_meta_wrong_method() {
	# 405 is the right status; any 4xx with a JSON error is accepted.
	expect_4xx "DELETE on a POST route" "$(rfs_http DELETE "$META/v1/ns/mkdir")" &&
		expect_4xx "GET on a POST route" "$(rfs_http GET "$META/v1/chunk/lease")"
}

case_meta_unknown_path() {
	expect_4xx "unknown path" "$(rfs_http GET "$META/no/such/path")" 404 &&
		expect_4xx "unknown path POST" "$(rfs_http POST "$META/v2/ns/mkdir" --data-binary '{}')" 404
}

case_meta_unknown_op() {
	expect_4xx "unknown namespace op" \
		"$(post_ns frobnicate "{\"parent\":\"$ROOT\",\"name\":\"x\"}")"
}

case_meta_bad_register() {
	expect_4xx "register with an invalid server id" \
		"$(rfs_http POST "$META/v1/cluster/register" -H 'Content-Type: application/json' \
			--data-binary '{"id":"../evil id","addr":"127.0.0.1:1","zone":"z9","weight":1}')" 400 || return
	rfs_admin status || { fail "status rc=$RFS_RC"; return; }
	grep -q evil "$RFS_TMP/cmd.out" && fail "the invalid server was registered"
	[ -z "$RFS_REASON" ]
}

case_chunk_unknown_id() {
	expect_4xx "GET of an unknown chunk" \
		"$(rfs_http GET "$CS/v1/chunk/$UNKNOWN_CHUNK?version=1&offset=0&length=65536")" 404 &&
		expect_4xx "DELETE of an unknown chunk" \
			"$(rfs_http DELETE "$CS/v1/chunk/$UNKNOWN_CHUNK?version=1")" 404
}

case_chunk_bad_id() {
	expect_4xx "GET of chunk id 'zz'" "$(rfs_http GET "$CS/v1/chunk/zz?version=1")" 400 &&
		expect_4xx "GET of chunk id '..'" "$(rfs_http GET "$CS/v1/chunk/..%2F..%2Fetc?version=1")"
}

case_chunk_bad_crc() {
	local id=00000000cafef00d
	head -c 1000 /dev/urandom >"$W/blk"
	expect_4xx "PUT with a wrong CRC32C" \
		"$(rfs_http PUT "$CS/v1/chunk/$id?version=1" -H 'X-Ringfs-Crc32c: 00000000' \
			-H 'Content-Type: application/octet-stream' --data-binary "@$W/blk")" || return
	# Refused means not stored.
	[ "$(rfs_http GET "$CS/v1/chunk/$id?version=1&offset=0&length=1000")" = 404 ] ||
		fail "a chunk refused for its CRC can be read back"
	[ -z "$(rfs_replica_files cs1 "$id")" ] ||
		fail "a chunk refused for its CRC left a replica file"
	[ -z "$RFS_REASON" ]
}

case_chunk_no_crc() {
	head -c 1000 /dev/urandom >"$W/blk"
	expect_4xx "PUT without CRC32C header" \
		"$(rfs_http PUT "$CS/v1/chunk/00000000cafef00e?version=1" \
			-H 'Content-Type: application/octet-stream' --data-binary "@$W/blk")" &&
		expect_4xx "PUT without version" \
			"$(rfs_http PUT "$CS/v1/chunk/00000000cafef00e" -H 'X-Ringfs-Crc32c: 00000000' \
				--data-binary "@$W/blk")"
}

case_chunk_wrong_method() {
	expect_4xx "POST on a chunk" \
		"$(rfs_http POST "$CS/v1/chunk/$UNKNOWN_CHUNK?version=1" --data-binary x)" &&
		expect_4xx "DELETE on the inventory" "$(rfs_http DELETE "$CS/v1/chunks")"
}

case_chunk_unknown_path() {
	expect_4xx "unknown path" "$(rfs_http GET "$CS/nope")" 404
}

case_chunk_bad_range() {
	expect_4xx "GET with a non-numeric offset" \
		"$(rfs_http GET "$CS/v1/chunk/$UNKNOWN_CHUNK?version=1&offset=abc&length=1")"
}

case_still_serving() {
	local name code
	for name in meta cs1 cs2 cs3; do
		rfs_is_running "$name" || { fail "$name died"; continue; }
		code=$(rfs_http GET "http://127.0.0.1:${RFS_PORT[$name]}/health")
		[ "$code" = 200 ] || fail "$name /health: HTTP $code"
	done
	rand_file "$W/f" $((RFS_CHUNK_SIZE + 99))
	rfs_cli put "$W/f" /after || { fail "put rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli get /after "$W/got" || { fail "get rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(sha "$W/got")" = "$(sha "$W/f")" ] || fail "put/get: SHA-256 differs"
	[ "$(rfs_up_count)" -eq $RFS_NSERVERS ] || fail "not all servers up"
	[ -z "$RFS_REASON" ]
}

rfs_case malformed_meta_control case_meta_control
rfs_case malformed_meta_bad_json case_meta_bad_json
rfs_case malformed_meta_wrong_types case_meta_wrong_types
rfs_case malformed_meta_dotdot_name case_meta_dotdot_name
rfs_case malformed_meta_long_name case_meta_long_name
rfs_case malformed_meta_oversized case_meta_oversized
rfs_case malformed_meta_wrong_method case_meta_wrong_method
rfs_case malformed_meta_unknown_path case_meta_unknown_path
rfs_case malformed_meta_unknown_op case_meta_unknown_op
rfs_case malformed_meta_bad_register case_meta_bad_register
rfs_case malformed_chunk_unknown_id case_chunk_unknown_id
rfs_case malformed_chunk_bad_id case_chunk_bad_id
rfs_case malformed_chunk_bad_crc case_chunk_bad_crc
rfs_case malformed_chunk_no_crc case_chunk_no_crc
rfs_case malformed_chunk_wrong_method case_chunk_wrong_method
rfs_case malformed_chunk_unknown_path case_chunk_unknown_path
rfs_case malformed_chunk_bad_range case_chunk_bad_range
rfs_case malformed_still_serving case_still_serving
rfs_finish
