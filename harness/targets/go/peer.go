// Go golang.org/x/crypto/ssh peer for ssh-harness: `peer server` (target `go`) and `peer client` (client
// peer `go-client`). Built at setup in GOPATH mode from Debian's golang-golang-x-crypto-dev, offline.
//
// Config: JSON in $SSH_HARNESS_PEER_CONFIG (server) or $SSH_HARNESS_CLIENT_CONFIG (client), the same shape the
// Python peers take. The server prints "listening on HOST:PORT" once bound and runs the built-in command set of
// `ssh-harness serve` (echo, cat, exit N, true, false, discard, yes N); nothing is run by a shell. The client
// forwards its stdin to the remote command and exits with the remote exit status, or 255 when it cannot connect.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

type algorithms struct {
	Kex         []string `json:"kex"`
	HostKey     []string `json:"hostKey"`
	Cipher      []string `json:"cipher"`
	Mac         []string `json:"mac"`
	Compression []string `json:"compression"`
}

type serverConfig struct {
	Host           string     `json:"host"`
	Port           int        `json:"port"`
	HostKeys       []string   `json:"hostKeys"`
	User           string     `json:"user"`
	Password       string     `json:"password"`
	AuthorizedKeys []string   `json:"authorizedKeys"`
	AuthMethods    []string   `json:"authMethods"`
	Algorithms     algorithms `json:"algorithms"`
}

type clientConfig struct {
	Host         string     `json:"host"`
	Port         int        `json:"port"`
	User         string     `json:"user"`
	Password     *string    `json:"password"`
	Identity     string     `json:"identity"`
	Command      string     `json:"command"`
	Fingerprints []string   `json:"hostKeyFingerprints"`
	Algorithms   algorithms `json:"algorithms"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peer server|client (config in $SSH_HARNESS_PEER_CONFIG / $SSH_HARNESS_CLIENT_CONFIG)")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "algorithms":
		json.NewEncoder(os.Stdout).Encode(implemented)
	case "server":
		serve()
	case "client":
		os.Exit(client())
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

// implemented is what golang.org/x/crypto/ssh 0.4.0 can negotiate (kexAlgoMap, cipherModes, macModes and the
// signature algorithms of common.go/keys.go). x/crypto itself does not check configured names: an unknown one goes
// into KEXINIT and fails only once negotiated, so the peer refuses such a configuration up front.
var implemented = map[string][]string{
	"kex": {"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
		"diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"},
	"hostKey": {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa", "ssh-dss"},
	"cipher": {"aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com",
		"arcfour256", "arcfour128", "arcfour", "aes128-cbc", "3des-cbc"},
	"mac":         {"hmac-sha2-256-etm@openssh.com", "hmac-sha2-256", "hmac-sha1", "hmac-sha1-96"},
	"compression": {"none"},
}

// clientOnlyKex: x/crypto implements group exchange for clients only (serverForbiddenKexAlgos).
var clientOnlyKex = []string{"diffie-hellman-group-exchange-sha256", "diffie-hellman-group-exchange-sha1"}

// checkNames returns an error naming the first algorithm x/crypto does not implement.
func checkNames(a algorithms, client bool) error {
	for kind, list := range map[string][]string{"kex": a.Kex, "hostKey": a.HostKey, "cipher": a.Cipher, "mac": a.Mac, "compression": a.Compression} {
		for _, n := range list {
			if !has(implemented[kind], n) && !(client && kind == "kex" && has(clientOnlyKex, n)) {
				return fmt.Errorf("%s %q is not implemented by golang.org/x/crypto/ssh", kind, n)
			}
		}
	}
	return nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- server

func serve() {
	log.SetFlags(log.Lmicroseconds)
	var cfg serverConfig
	if err := json.Unmarshal([]byte(os.Getenv("SSH_HARNESS_PEER_CONFIG")), &cfg); err != nil {
		log.Fatalf("bad $SSH_HARNESS_PEER_CONFIG: %v", err)
	}
	methods := cfg.AuthMethods
	if len(methods) == 0 {
		methods = []string{"password", "publickey"}
	}
	authorized := map[string]bool{}
	for _, line := range cfg.AuthorizedKeys {
		if f := strings.Fields(line); len(f) >= 2 {
			authorized[f[1]] = true
		}
	}
	sc := &ssh.ServerConfig{}
	a := cfg.Algorithms
	if err := checkNames(a, false); err != nil {
		log.Fatalf("%v", err)
	}
	sc.KeyExchanges, sc.Ciphers, sc.MACs = a.Kex, a.Cipher, a.Mac
	// x/crypto/ssh implements no compression: only "none" can be honoured
	for _, c := range a.Compression {
		if c != "none" {
			log.Fatalf("compression %q is not implemented by golang.org/x/crypto/ssh", c)
		}
	}
	if has(methods, "password") {
		sc.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == cfg.User && string(pw) == cfg.Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	if has(methods, "publickey") {
		sc.PublicKeyCallback = func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == cfg.User && authorized[base64.StdEncoding.EncodeToString(k.Marshal())] {
				return nil, nil
			}
			return nil, errors.New("key not authorized")
		}
	}
	sc.AuthLogCallback = func(c ssh.ConnMetadata, method string, err error) {
		log.Printf("auth %s for %q from %s: %v", method, c.User(), c.RemoteAddr(), err)
	}
	added := 0
	for _, path := range cfg.HostKeys {
		pem, err := ioutil.ReadFile(path)
		if err != nil {
			log.Fatalf("host key %s: %v", path, err)
		}
		signer, err := ssh.ParsePrivateKey(pem)
		if err != nil {
			log.Fatalf("host key %s: %v", path, err)
		}
		// a host key algorithm list keeps the keys whose type it names (x/crypto 0.4 cannot narrow rsa-sha2-*)
		if len(a.HostKey) > 0 && !hostKeyWanted(signer.PublicKey().Type(), a.HostKey) {
			continue
		}
		sc.AddHostKey(signer)
		added++
	}
	if added == 0 {
		log.Fatalf("no host key left for host key algorithms %v", a.HostKey)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	log.Printf("go-x-crypto-ssh listening on %s", ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatalf("accept: %v", err)
		}
		go handleConn(conn, sc)
	}
}

// hostKeyWanted: RFC 8332 §3: rsa-sha2-256/512 and ssh-rsa all sign with an ssh-rsa key.
func hostKeyWanted(keyType string, algs []string) bool {
	for _, alg := range algs {
		if alg == keyType || (keyType == ssh.KeyAlgoRSA && (alg == ssh.KeyAlgoRSASHA256 || alg == ssh.KeyAlgoRSASHA512)) {
			return true
		}
	}
	return false
}

func handleConn(nc net.Conn, sc *ssh.ServerConfig) {
	defer nc.Close()
	conn, chans, reqs, err := ssh.NewServerConn(nc, sc)
	if err != nil {
		log.Printf("handshake with %s failed: %v", nc.RemoteAddr(), err)
		return
	}
	log.Printf("%s authenticated as %q (%s)", conn.RemoteAddr(), conn.User(), conn.ClientVersion())
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			log.Printf("accept channel: %v", err)
			continue
		}
		go handleSession(ch, creqs)
	}
	log.Printf("%s closed: %v", conn.RemoteAddr(), conn.Wait())
}

func handleSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	started := false
	for req := range reqs {
		ok, run := false, ""
		switch req.Type {
		case "exec", "shell":
			// RFC 4254 §6.5: only one of shell, exec, subsystem succeeds per channel
			if !started {
				cmd := "cat"
				if req.Type == "exec" {
					if len(req.Payload) < 4 || int(binary.BigEndian.Uint32(req.Payload)) != len(req.Payload)-4 {
						break
					}
					cmd = string(req.Payload[4:])
				}
				started, ok, run = true, true, cmd
			}
		case "pty-req", "env":
			ok = true
		}
		if req.WantReply {
			req.Reply(ok, nil)
		}
		// started only after the reply: a short command would otherwise close the channel before it (RFC 4254 §6.5)
		if run != "" {
			go runCommand(ch, run)
		}
	}
}

func runCommand(ch ssh.Channel, command string) {
	status := runBuiltin(command, ch, ch, ch.Stderr())
	// RFC 4254 §6.10: exit-status, then EOF and CLOSE
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
	ch.CloseWrite()
	ch.Close()
}

// runBuiltin runs `;`-separated steps of the built-in command set and returns the exit status.
func runBuiltin(command string, in io.Reader, out, errOut io.Writer) int {
	for _, part := range strings.Split(command, ";") {
		words := splitWords(part)
		if len(words) == 0 {
			continue
		}
		name, args := words[0], words[1:]
		switch name {
		case "echo":
			io.WriteString(out, strings.Join(args, " ")+"\n")
		case "cat":
			io.Copy(out, in)
		case "discard":
			n, _ := io.Copy(ioutil.Discard, in)
			fmt.Fprintf(out, "%d\n", n)
		case "yes":
			n := 0
			if len(args) > 0 {
				n, _ = strconv.Atoi(args[0])
			}
			writeYes(out, n)
		case "true":
		case "false":
			return 1
		case "exit":
			n := 0
			if len(args) > 0 {
				n, _ = strconv.Atoi(args[0])
			}
			return n & 0xff
		default:
			fmt.Fprintf(errOut, "%s: command not found\n", name)
			return 127
		}
	}
	return 0
}

const maxYes = 1 << 30

func writeYes(out io.Writer, n int) {
	if n > maxYes {
		n = maxYes
	}
	chunk := []byte(strings.Repeat("y\n", 16384))
	for n > 0 {
		piece := chunk
		if n < len(piece) {
			piece = piece[:n]
		}
		if _, err := out.Write(piece); err != nil {
			return
		}
		n -= len(piece)
	}
}

// splitWords splits on blanks, honouring single and double quotes (enough for the built-in commands).
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// ---------------------------------------------------------------- client

func client() int {
	var cfg clientConfig
	if err := json.Unmarshal([]byte(os.Getenv("SSH_HARNESS_CLIENT_CONFIG")), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "go-client: bad $SSH_HARNESS_CLIENT_CONFIG: %v\n", err)
		return 255
	}
	a := cfg.Algorithms
	if err := checkNames(a, true); err != nil {
		fmt.Fprintf(os.Stderr, "go-client: %v\n", err)
		return 255
	}
	cc := &ssh.ClientConfig{User: cfg.User, HostKeyAlgorithms: a.HostKey}
	cc.KeyExchanges, cc.Ciphers, cc.MACs = a.Kex, a.Cipher, a.Mac
	cc.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
		if len(cfg.Fingerprints) == 0 || has(cfg.Fingerprints, ssh.FingerprintSHA256(key)) {
			return nil
		}
		return fmt.Errorf("host key %s is not one of %v", ssh.FingerprintSHA256(key), cfg.Fingerprints)
	}
	if cfg.Identity != "" {
		pem, err := ioutil.ReadFile(cfg.Identity)
		if err != nil {
			fmt.Fprintf(os.Stderr, "go-client: %v\n", err)
			return 255
		}
		signer, err := ssh.ParsePrivateKey(pem)
		if err != nil {
			fmt.Fprintf(os.Stderr, "go-client: %s: %v\n", cfg.Identity, err)
			return 255
		}
		cc.Auth = append(cc.Auth, ssh.PublicKeys(signer))
	}
	if cfg.Password != nil {
		cc.Auth = append(cc.Auth, ssh.Password(*cfg.Password))
	}
	conn, err := ssh.Dial("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), cc)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-client: %v\n", err)
		return 255
	}
	defer conn.Close()
	s, err := conn.NewSession()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-client: new session: %v\n", err)
		return 255
	}
	s.Stdout, s.Stderr = os.Stdout, os.Stderr
	stdin, err := s.StdinPipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-client: %v\n", err)
		return 255
	}
	if err := s.Start(cfg.Command); err != nil {
		fmt.Fprintf(os.Stderr, "go-client: exec: %v\n", err)
		return 255
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(stdin, os.Stdin)
		stdin.Close() // SSH_MSG_CHANNEL_EOF
	}()
	err = s.Wait()
	var exit *ssh.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitStatus()
	default:
		fmt.Fprintf(os.Stderr, "go-client: %v\n", err)
		return 255
	}
}
