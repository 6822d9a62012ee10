-- SPDX-License-Identifier: MIT
--
-- Wireshark/tshark dissector for what sluice adds to WireGuard's wire format:
--
--  * the TCP transport: every WireGuard message is sent as a frame
--    [u16 big-endian length][message]; frames are reassembled across TCP
--    segments and each message is handed on like a UDP datagram;
--  * the AES-256-GCM suite (spoken only between sluice peers): the same four
--    messages as WireGuard with the header's first reserved byte (the "suite"
--    byte) set to 1. These are shown as protocol "sluice" (fields sluice.*).
--  * TAP mode (Mode = tap: Ethernet frames, not IP packets): every message of
--    such an interface, of either suite, has the second reserved byte (the
--    "mode" byte) set to 1. Shown as protocol "sluice" too, marked Ethernet.
--    Their handshake binds the mode into its hash, so the wg dissector's key
--    log decryption cannot follow them: their frames stay encrypted here.
--
-- Messages of WireGuard's own suite and mode (both bytes 0) go to
-- Wireshark's built-in "wg" dissector, unchanged, whichever transport
-- carried them, so its key log decryption (wg.keylog_file) works over TCP
-- too.
--
-- Load with `tshark -X lua_script:contrib/wireshark/sluice.lua`, or copy this
-- file to ~/.local/lib/wireshark/plugins/. See contrib/wireshark/README.md.
-- Layouts: src/messages.h.

local DEFAULT_PORT = 51820

-- Sizes from src/messages.h.
local HEADER_LEN = 4
local INITIATION_LEN = 148
local RESPONSE_LEN = 92
local COOKIE_LEN = 64
local DATA_HEADER_LEN = 16
local AUTHTAG_LEN = 16
local DATA_MIN_LEN = DATA_HEADER_LEN + AUTHTAG_LEN
local FRAME_PREFIX_LEN = 2

local TYPE_INITIATION, TYPE_RESPONSE, TYPE_COOKIE, TYPE_DATA = 1, 2, 3, 4
local SUITE_CHACHAPOLY, SUITE_AESGCM = 0, 1
local MODE_IP, MODE_ETHERNET = 0, 1

local type_names = {
	[TYPE_INITIATION] = "Handshake Initiation",
	[TYPE_RESPONSE] = "Handshake Response",
	[TYPE_COOKIE] = "Cookie Reply",
	[TYPE_DATA] = "Transport Data",
}
local suite_names = {
	[SUITE_CHACHAPOLY] = "ChaCha20-Poly1305 (WireGuard)",
	[SUITE_AESGCM] = "AES-256-GCM (sluice)",
}
local mode_names = {
	[MODE_IP] = "IP packets (TUN)",
	[MODE_ETHERNET] = "Ethernet frames (TAP, sluice)",
}

local sluice = Proto("sluice", "sluice VPN (AES-256-GCM suite, Ethernet frames, TCP framing)")
-- The TCP transport gets a protocol of its own only so that it can be
-- registered on tcp.port apart from the message dissector on udp.port; the
-- fields it shows are sluice's.
local sluice_tcp = Proto("sluice_tcp", "sluice over TCP (length-prefixed frames)")

local F = {
	frame_len = ProtoField.uint16("sluice.frame_len", "Frame length", base.DEC, nil, nil,
		"Length prefix of a TCP frame: bytes of the message that follows"),
	type = ProtoField.uint8("sluice.type", "Type", base.DEC, type_names),
	suite = ProtoField.uint8("sluice.suite", "Suite", base.DEC, suite_names),
	mode = ProtoField.uint8("sluice.mode", "Mode", base.DEC, mode_names),
	reserved = ProtoField.bytes("sluice.reserved", "Reserved"),
	sender = ProtoField.uint32("sluice.sender", "Sender", base.HEX, nil, nil,
		"Session index chosen by the sender"),
	receiver = ProtoField.uint32("sluice.receiver", "Receiver", base.HEX, nil, nil,
		"Session index chosen by the receiver"),
	ephemeral = ProtoField.bytes("sluice.ephemeral", "Ephemeral public key"),
	encrypted_static = ProtoField.bytes("sluice.encrypted_static", "Encrypted static key"),
	encrypted_timestamp = ProtoField.bytes("sluice.encrypted_timestamp", "Encrypted timestamp"),
	encrypted_empty = ProtoField.bytes("sluice.encrypted_empty", "Encrypted empty"),
	nonce = ProtoField.bytes("sluice.nonce", "Nonce"),
	encrypted_cookie = ProtoField.bytes("sluice.encrypted_cookie", "Encrypted cookie"),
	counter = ProtoField.uint64("sluice.counter", "Counter"),
	payload_len = ProtoField.uint32("sluice.payload_len", "Encrypted payload length", base.DEC, nil, nil,
		"Bytes of padded plaintext (the 16-byte tag not counted); 0 is a keepalive"),
	encrypted_packet = ProtoField.bytes("sluice.encrypted_packet", "Encrypted packet"),
	encrypted_frame = ProtoField.bytes("sluice.encrypted_frame", "Encrypted Ethernet frame", base.NONE,
		nil, nil, "Frame length (2 bytes), Ethernet frame, padding: encrypted"),
	mac1 = ProtoField.bytes("sluice.mac1", "mac1"),
	mac2 = ProtoField.bytes("sluice.mac2", "mac2"),
}
sluice.fields = F

local E = {
	bad_length = ProtoExpert.new("sluice.bad_length", "Wrong length for this message type",
		expert.group.MALFORMED, expert.severity.ERROR),
	keepalive = ProtoExpert.new("sluice.keepalive", "Keepalive message",
		expert.group.SEQUENCE, expert.severity.CHAT),
	not_wireguard = ProtoExpert.new("sluice.not_wireguard",
		"Not a message of either suite (the wg dissector refused it)",
		expert.group.MALFORMED, expert.severity.WARN),
	ethernet = ProtoExpert.new("sluice.ethernet",
		"Ethernet (TAP mode): a TUN sluice, wireguard-go or the kernel drops this message",
		expert.group.PROTOCOL, expert.severity.NOTE),
}
sluice.experts = E

sluice.prefs.tcp_port = Pref.uint("TCP port", DEFAULT_PORT,
	"TCP port of sluice's TCP transport (0: none; Decode As works on any port)")
sluice.prefs.udp_port = Pref.uint("UDP port", DEFAULT_PORT,
	"UDP port to hand to sluice, which passes WireGuard's own messages on to the wg dissector "
	.. "(0: none; a heuristic finds AES-256-GCM messages on any port)")

local wg = Dissector.get("wg")   -- Wireshark 3.0 and later
local data = Dissector.get("data")

local function valid_length(msg_type, len)
	if msg_type == TYPE_INITIATION then return len == INITIATION_LEN end
	if msg_type == TYPE_RESPONSE then return len == RESPONSE_LEN end
	if msg_type == TYPE_COOKIE then return len == COOKIE_LEN end
	-- Data is padded to 16 bytes, but never beyond the MTU, which need not
	-- be a multiple of 16: no test of the length modulo 16.
	if msg_type == TYPE_DATA then return len >= DATA_MIN_LEN end
	return false
end

-- The suite and mode bytes, or nil if tvb is too short to have a header.
local function suite_of(tvb)
	if tvb:captured_len() < HEADER_LEN then
		return nil
	end
	return tvb(1, 1):uint()
end

local function mode_of(tvb)
	if tvb:captured_len() < HEADER_LEN then
		return nil
	end
	return tvb(2, 1):uint()
end

-- Whether a message is sluice's own rather than WireGuard's: the
-- AES-256-GCM suite, or TAP mode (either suite).
local function is_sluice(tvb)
	local suite, mode = suite_of(tvb), mode_of(tvb)
	return (suite == SUITE_AESGCM and (mode == MODE_IP or mode == MODE_ETHERNET))
		or (mode == MODE_ETHERNET and suite == SUITE_CHACHAPOLY)
end

-- Whether tvb looks like a message of sluice's own: is_sluice, the last
-- reserved byte zero, a known type of the right length.
local function looks_sluice(tvb)
	return is_sluice(tvb) and tvb(3, 1):uint() == 0
		and valid_length(tvb(0, 1):uint(), tvb:reported_length_remaining())
end

-- sluice's messages: WireGuard's layouts (src/messages.h).
local function dissect_sluice(tvb, pinfo, tree)
	local len = tvb:reported_length_remaining()
	local msg_type = tvb(0, 1):uint()
	local ethernet = mode_of(tvb) == MODE_ETHERNET
	local label = (suite_of(tvb) == SUITE_AESGCM and "AES-256-GCM " or "")
		.. (ethernet and "Ethernet " or "")
	local name = type_names[msg_type] or "Unknown"

	pinfo.cols.protocol = "sluice"
	pinfo.cols.info:set(label .. name)

	tree:add(F.type, tvb(0, 1))
	tree:add(F.suite, tvb(1, 1))
	tree:add(F.mode, tvb(2, 1))
	tree:add(F.reserved, tvb(3, 1))
	tree:append_text(", " .. label .. name)
	if ethernet then
		tree:add_proto_expert_info(E.ethernet)
	end
	if not valid_length(msg_type, len) then
		tree:add_proto_expert_info(E.bad_length,
			string.format("%s of %d bytes", name, len))
		return
	end

	if msg_type == TYPE_INITIATION then
		tree:add_le(F.sender, tvb(4, 4))
		tree:add(F.ephemeral, tvb(8, 32))
		tree:add(F.encrypted_static, tvb(40, 32 + AUTHTAG_LEN))
		tree:add(F.encrypted_timestamp, tvb(88, 12 + AUTHTAG_LEN))
		tree:add(F.mac1, tvb(116, 16))
		tree:add(F.mac2, tvb(132, 16))
		pinfo.cols.info:append(string.format(", sender=0x%08X", tvb(4, 4):le_uint()))
	elseif msg_type == TYPE_RESPONSE then
		tree:add_le(F.sender, tvb(4, 4))
		tree:add_le(F.receiver, tvb(8, 4))
		tree:add(F.ephemeral, tvb(12, 32))
		tree:add(F.encrypted_empty, tvb(44, AUTHTAG_LEN))
		tree:add(F.mac1, tvb(60, 16))
		tree:add(F.mac2, tvb(76, 16))
		pinfo.cols.info:append(string.format(", sender=0x%08X, receiver=0x%08X",
			tvb(4, 4):le_uint(), tvb(8, 4):le_uint()))
	elseif msg_type == TYPE_COOKIE then
		tree:add_le(F.receiver, tvb(4, 4))
		tree:add(F.nonce, tvb(8, 24))
		tree:add(F.encrypted_cookie, tvb(32, 16 + AUTHTAG_LEN))
		pinfo.cols.info:append(string.format(", receiver=0x%08X", tvb(4, 4):le_uint()))
	else
		local payload = len - DATA_MIN_LEN
		tree:add_le(F.receiver, tvb(4, 4))
		tree:add_le(F.counter, tvb(8, 8))
		local item = tree:add(F.payload_len, tvb(DATA_HEADER_LEN, len - DATA_HEADER_LEN), payload)
		item:set_generated()
		tree:add(ethernet and F.encrypted_frame or F.encrypted_packet, tvb(DATA_HEADER_LEN, len - DATA_HEADER_LEN))
		pinfo.cols.info:append(string.format(", receiver=0x%08X, counter=%s",
			tvb(4, 4):le_uint(), tostring(tvb(8, 8):le_uint64())))
		if payload == 0 then
			pinfo.cols.info:set(label .. "Keepalive")
			tree:add_proto_expert_info(E.keepalive)
		else
			pinfo.cols.info:append(string.format(", datalen=%d", payload))
		end
	end
end

-- Hands a message of WireGuard's suite to the built-in dissector. The wg
-- dissector finds its sessions by pinfo's addresses and ports, and the inner
-- IP packet it decrypts overwrites them. Put them back, so that the next
-- message in the same TCP segment is matched against the outer ones: 4.0's
-- dissect_tcp_pdus happens to do it too, but nothing promises that.
local function call_wg(tvb, pinfo, tree)
	local src, dst, net_src, net_dst = pinfo.src, pinfo.dst, pinfo.net_src, pinfo.net_dst
	local src_port, dst_port = pinfo.src_port, pinfo.dst_port
	local ok, consumed = pcall(wg.call, wg, tvb, pinfo, tree)
	pinfo.src, pinfo.dst, pinfo.net_src, pinfo.net_dst = src, dst, net_src, net_dst
	pinfo.src_port, pinfo.dst_port = src_port, dst_port
	if not ok then
		error(consumed)
	end
	return consumed
end

-- One message, from any transport: ours if it is of the AES-256-GCM suite
-- or TAP mode, the wg dissector's otherwise. Returns the bytes consumed, 0
-- if neither.
local function dissect_message(tvb, pinfo, tree)
	if is_sluice(tvb) then
		dissect_sluice(tvb, pinfo, tree:add(sluice, tvb()))
		return tvb:len()
	end
	return call_wg(tvb, pinfo, tree)
end

-- UDP (port registration and Decode As).
function sluice.dissector(tvb, pinfo, tree)
	return dissect_message(tvb, pinfo, tree)
end

-- UDP on any port: only sluice's own messages (AES-256-GCM, TAP mode) are
-- claimed, so the wg heuristic keeps WireGuard's. The conversation then stays with
-- sluice, which passes on any WireGuard-suite message (a cookie reply) to wg.
local function heuristic_udp(tvb, pinfo, tree)
	if not looks_sluice(tvb) then
		return false
	end
	pinfo.conversation = sluice
	sluice.dissector(tvb, pinfo, tree)
	return true
end
sluice:register_heuristic("udp", heuristic_udp)

-- TCP: frames of [u16 big-endian length][message], reassembled by
-- dissect_tcp_pdus, which calls frame_dissector once per whole frame, also
-- when a frame spans segments or a segment holds several frames.
local function frame_length(tvb, pinfo, offset)
	return FRAME_PREFIX_LEN + tvb(offset, FRAME_PREFIX_LEN):uint()
end

local function frame_dissector(tvb, pinfo, tree)
	local msg_len = tvb(0, FRAME_PREFIX_LEN):uint()
	local item = tree:add(sluice, tvb())
	item:add(F.frame_len, tvb(0, FRAME_PREFIX_LEN))

	-- Several frames in one packet: keep each one's text in the Info column
	-- (the wg dissector sets it rather than appends). pinfo.private lives
	-- as long as one dissection of one packet.
	local nth = tonumber(pinfo.private.sluice_frames or "0") + 1
	pinfo.private.sluice_frames = tostring(nth)
	if nth > 1 then
		pinfo.cols.info:append(" | ")
		pinfo.cols.info:fence()
	end

	if msg_len == 0 then
		item:append_text(", empty frame")
		item:add_proto_expert_info(E.bad_length, "Empty frame")
		return FRAME_PREFIX_LEN
	end
	local msg = tvb(FRAME_PREFIX_LEN):tvb()
	if is_sluice(msg) then
		dissect_sluice(msg, pinfo, item)
	elseif call_wg(msg, pinfo, tree) == 0 then
		item:add_proto_expert_info(E.not_wireguard)
		data:call(msg, pinfo, tree)
	end
	return tvb:len()
end

function sluice_tcp.dissector(tvb, pinfo, tree)
	pinfo.cols.protocol = "sluice"
	return dissect_tcp_pdus(tvb, tree, FRAME_PREFIX_LEN, frame_length, frame_dissector, true)
end

-- Port registration, redone when a port preference changes. Only a port
-- that changed is removed: removing an entry also drops a Decode As of that
-- port.
local tcp_table = DissectorTable.get("tcp.port")
local udp_table = DissectorTable.get("udp.port")
local registered = { tcp = 0, udp = 0 }

local function register_port(table, kind, port, dissector)
	if registered[kind] == port then
		return
	end
	if registered[kind] ~= 0 then
		table:remove(registered[kind], dissector)
	end
	if port ~= 0 then
		table:add(port, dissector)
	end
	registered[kind] = port
end

local function register_ports()
	register_port(tcp_table, "tcp", sluice.prefs.tcp_port, sluice_tcp)
	register_port(udp_table, "udp", sluice.prefs.udp_port, sluice)
end

function sluice.prefs_changed()
	register_ports()
end

tcp_table:add_for_decode_as(sluice_tcp)
udp_table:add_for_decode_as(sluice)
register_ports()
