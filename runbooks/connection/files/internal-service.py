# The server's internal TCP service on [::]:9000 (IPv4 too): it answers anyone who reaches it, which is the
# incident's problem — on the 6PN network it must be refused; only the tunnel may reach it.
import socket

s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 9000))
s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(b"internal service\n")
    c.close()
