// Command smb-interop-go-smb2 puts github.com/hirochachacha/go-smb2 behind the smb-interop
// client plug-in protocol (clients/PLUGIN-PROTOCOL.md): JSON lines on stdin and stdout.
package main

import (
	"bufio"
	"context"
	"io"
	"os"
)

// libraryVersion is go-smb2's version, set at build time (-ldflags -X main.libraryVersion=...).
var libraryVersion = "unknown"

// What go-smb2 1.1.0 implements (feature.go, conn.go, session.go): every SMB2/3 dialect; the
// two 128-bit ciphers, offered only in 3.1.1's encryption context (3.0 and 3.0.2 use CCM);
// HMAC-SHA256 for 2.x and AES-CMAC for 3.x, with no signing capabilities context, so never
// AES-GMAC; NTLMv2 only.
var driverCapabilities = capabilities{
	Dialects:   []string{"2.0.2", "2.1", "3.0", "3.0.2", "3.1.1"},
	Ciphers:    []string{"AES-128-CCM", "AES-128-GCM"},
	Signing:    []string{"HMAC-SHA256", "AES-128-CMAC"},
	Auth:       []string{"ntlm", "guest"},
	Operations: []string{"writeFile", "readFile", "stat", "readdir", "mkdir", "rmdir", "unlink", "rename", "exists"},
}

func main() {
	out := &lineWriter{out: bufio.NewWriter(os.Stdout)}
	if err := out.write(hello{
		Type:         "hello",
		Protocol:     protocolVersion,
		Client:       clientInfo{Name: "go-smb2", Version: libraryVersion},
		Capabilities: driverCapabilities,
	}); err != nil {
		logf("cannot write hello: %v", err)
		os.Exit(1)
	}
	os.Exit(serve(newLineReader(os.Stdin), out))
}

// serve answers requests until close (exit status 0), the end of stdin (0, after logging off)
// or a line that is not a request (2: the protocol is broken, nothing can be answered).
func serve(in *lineReader, out *lineWriter) int {
	c := &client{}
	for {
		line, err := in.next()
		if err == io.EOF {
			logf("stdin closed without close; logging off")
			c.close()
			return 0
		}
		if err != nil {
			logf("cannot read a request: %v", err)
			c.close()
			return 2
		}
		req, err := parseRequest(line)
		if err != nil {
			logf("invalid request line (%v): %.200s", err, line)
			c.close()
			return 2
		}
		value, fault := c.handle(req)
		answer := result{Type: "result", ID: *req.ID, OK: fault == nil}
		if fault == nil {
			answer.Value = value
		} else {
			answer.Error = fault
		}
		if err := out.write(answer); err != nil {
			logf("cannot write the answer to %s: %v", req.Op, err)
			c.close()
			return 1
		}
		if req.Op == "close" {
			return 0
		}
	}
}

func (c *client) handle(req *request) (interface{}, *failure) {
	empty := struct{}{}
	switch req.Op {
	case "connect":
		return c.connect(req)
	case "close":
		if fault := c.close(); fault != nil {
			return nil, fault
		}
		return empty, nil
	}
	if c.share == nil {
		return nil, &failure{Message: req.Op + ": not connected (connect must come first)"}
	}
	// Every operation gets the connect's time limit (file data three times that), as go-smb2
	// honours a Share's context: a server that stops answering fails the operation, never hangs it.
	limit := c.timeout
	if req.Op == "writeFile" || req.Op == "readFile" {
		limit *= 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	mounted := c.share
	c.share = mounted.WithContext(ctx)
	defer func() { c.share = mounted }()
	switch req.Op {
	case "writeFile", "readFile":
		path, err := stringArg(req, "path")
		if err != nil {
			return nil, &failure{Message: err.Error()}
		}
		local := "source"
		if req.Op == "readFile" {
			local = "destination"
		}
		file, err := stringArg(req, local)
		if err != nil {
			return nil, &failure{Message: err.Error()}
		}
		if req.Op == "readFile" {
			return c.readFile(path, file)
		}
		return empty, c.writeFile(path, file)
	case "stat", "readdir", "mkdir", "rmdir", "unlink", "exists":
		path, err := stringArg(req, "path")
		if err != nil {
			return nil, &failure{Message: err.Error()}
		}
		switch req.Op {
		case "stat":
			return c.stat(path)
		case "readdir":
			return c.readdir(path)
		case "exists":
			return c.exists(path)
		case "mkdir":
			if err := c.share.Mkdir(path, 0o755); err != nil {
				return nil, describe("mkdir "+path, err)
			}
		default: // rmdir, unlink: go-smb2 removes both through Share.Remove
			if err := c.share.Remove(path); err != nil {
				return nil, describe(req.Op+" "+path, err)
			}
		}
		return empty, nil
	case "rename":
		from, err := stringArg(req, "from")
		if err != nil {
			return nil, &failure{Message: err.Error()}
		}
		to, err := stringArg(req, "to")
		if err != nil {
			return nil, &failure{Message: err.Error()}
		}
		replace, err := boolArg(req, "replace")
		if err != nil {
			return nil, &failure{Message: err.Error()}
		}
		if fault := c.rename(from, to, replace); fault != nil {
			return nil, fault
		}
		return empty, nil
	}
	return nil, &failure{Message: "unknown operation " + req.Op}
}
