package http

import (
	"context"
	"errors"
	"fmt"
	"net"
	nethttp "net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Address classes the policy knows about. classPublic is everything else.
const (
	classPublic      = ""
	classLoopback    = "a loopback address"
	classPrivate     = "a private address"
	classShared      = "a shared (CGNAT) address"
	classLinkLocal   = "a link-local address"
	classUnspecified = "an unspecified address"
	classMulticast   = "a multicast address"
	classReserved    = "a reserved address"
)

// Special-purpose ranges not covered by netip.Addr's predicates (IsLoopback,
// IsPrivate, IsLinkLocalUnicast, IsMulticast, IsUnspecified).
var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")     // "this network"; 0.0.0.0 reaches the local host on Linux
	sharedCGNAT = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598 shared address space
	reserved4   = netip.MustParsePrefix("240.0.0.0/4")   // RFC 1112 reserved, includes 255.255.255.255
	nat64       = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052 well-known NAT64 prefix
)

// normalize strips an IPv6 zone and turns IPv4-mapped and NAT64 IPv6
// addresses into the IPv4 address they reach, so that prefix checks see the
// real destination (netip.Prefix.Contains never matches a zoned address or
// an IPv4-mapped address against an IPv4 prefix).
func normalize(ip netip.Addr) netip.Addr {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	return ip
}

// classify names the special-purpose class of a normalized address.
func classify(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return classLoopback
	case ip.IsUnspecified() || thisNetwork.Contains(ip):
		return classUnspecified
	case ip.IsPrivate(): // 10/8, 172.16/12, 192.168/16, fc00::/7
		return classPrivate
	case sharedCGNAT.Contains(ip):
		return classShared
	case ip.IsLinkLocalUnicast(): // 169.254/16 (cloud metadata lives here), fe80::/10
		return classLinkLocal
	case ip.IsMulticast():
		return classMulticast
	case reserved4.Contains(ip):
		return classReserved
	}
	return classPublic
}

func containsAny(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// policy decides which addresses requests may connect to.
type policy struct {
	allowLoopback bool
	allowPrivate  bool
	allow         []netip.Prefix
	deny          []netip.Prefix
}

func newPolicy(o Options) *policy {
	p := &policy{allowLoopback: o.AllowLoopback, allowPrivate: o.AllowPrivate}
	for _, a := range o.Allow {
		p.allow = append(p.allow, a.Masked())
	}
	for _, d := range o.Deny {
		p.deny = append(p.deny, d.Masked())
	}
	return p
}

// check returns a *deniedError when host (as written in the URL) may not be
// reached at ip. Explicit Allow prefixes win over everything, then explicit
// Deny prefixes, then the built-in classes: loopback needs AllowLoopback,
// private and CGNAT need AllowPrivate, and link-local, unspecified,
// multicast and reserved addresses are only reachable through Allow.
func (p *policy) check(host string, ip netip.Addr) error {
	n := normalize(ip)
	if containsAny(p.allow, n) || containsAny(p.allow, ip.WithZone("")) {
		return nil
	}
	if containsAny(p.deny, n) || containsAny(p.deny, ip.WithZone("")) {
		return &deniedError{host: host, ip: ip, reason: "it is in the deny list"}
	}
	switch class := classify(n); class {
	case classPublic:
		return nil
	case classLoopback:
		if p.allowLoopback {
			return nil
		}
		return &deniedError{host: host, ip: ip, reason: "it is " + class + " (allowed only by the local runner and dev mode)"}
	case classPrivate, classShared:
		if p.allowPrivate {
			return nil
		}
		return &deniedError{host: host, ip: ip, reason: "it is " + class + " (private ranges are denied unless the outbound policy allows them)"}
	default:
		return &deniedError{host: host, ip: ip, reason: "it is " + class}
	}
}

// deniedError reports a connection the policy refused.
type deniedError struct {
	host   string
	ip     netip.Addr
	reason string
}

func (e *deniedError) Error() string {
	if e.host == "" || e.host == e.ip.String() {
		return fmt.Sprintf("outbound policy denies %s: %s", e.ip, e.reason)
	}
	return fmt.Sprintf("outbound policy denies %s (resolved to %s): %s", e.host, e.ip, e.reason)
}

// resolve returns the addresses of host (an IP literal or a name) for the
// dial network ("tcp", "tcp4" or "tcp6").
func resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	lookup := "ip"
	switch network {
	case "tcp4":
		lookup = "ip4"
	case "tcp6":
		lookup = "ip6"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, lookup, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	// The resolver may return IPv4 answers in their IPv4-mapped IPv6 form.
	for i, ip := range ips {
		ips[i] = ip.Unmap()
	}
	return ips, nil
}

// dialer returns a DialContext that resolves the target, refuses the
// connection unless every resolved address passes the policy, and then dials
// the checked addresses themselves (never the name again), so a DNS answer
// cannot change between the check and the connection. The net.Dialer's
// Control hook checks the socket's address once more as a last line of
// defence.
func (p *policy) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("outbound policy: unexpected dial address %q", address)
			}
			return p.check("", ap.Addr())
		},
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, portText, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		port, err := strconv.ParseUint(portText, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad port in %q", addr)
		}
		ips, err := resolve(ctx, network, host)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			if err := p.check(host, ip); err != nil {
				return nil, err
			}
		}
		var first error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		return nil, first
	}
}

// guard wraps a RoundTripper whose connections the policy cannot see (an
// Options.Transport that is not an *http.Transport): it resolves and checks
// the target of every request, redirect hops included, before passing it on.
// This cannot catch a DNS answer that changes between the check and the
// connection; the default transport checks at connection time instead.
type guard struct {
	p    *policy
	next nethttp.RoundTripper
}

func (g guard) RoundTrip(req *nethttp.Request) (*nethttp.Response, error) {
	host := req.URL.Hostname()
	ips, err := resolve(req.Context(), "tcp", host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if err := g.p.check(host, ip); err != nil {
			return nil, err
		}
	}
	return g.next.RoundTrip(req)
}

// transport builds the RoundTripper for opts: a fresh transport that dials
// through the policy when none is given, a clone of a given *http.Transport
// with its dialing replaced by the policy's, and any other RoundTripper
// behind a guard. Proxies are never used: a proxy would connect on our
// behalf to addresses the policy never sees.
func (p *policy) transport(rt nethttp.RoundTripper) nethttp.RoundTripper {
	switch t := rt.(type) {
	case nil:
		return &nethttp.Transport{
			DialContext:           p.dialer(),
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	case *nethttp.Transport:
		c := t.Clone()
		c.Proxy = nil
		c.OnProxyConnectResponse = nil
		c.DialContext = p.dialer()
		// Custom TLS dialers would connect without the policy; with both
		// cleared the transport dials through DialContext and does TLS itself.
		c.DialTLSContext = nil
		//lint:ignore SA1019 clearing the deprecated hook too is the point: it would bypass the policy
		c.DialTLS = nil
		return c
	default:
		return guard{p: p, next: rt}
	}
}

// asDenied finds a policy denial in an error chain.
func asDenied(err error) (*deniedError, bool) {
	var d *deniedError
	ok := errors.As(err, &d)
	return d, ok
}
