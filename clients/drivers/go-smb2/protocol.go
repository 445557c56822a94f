package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// protocolVersion is the version of clients/PLUGIN-PROTOCOL.md this driver speaks.
const protocolVersion = 1

// maxLineBytes is the longest line either side may write (PLUGIN-PROTOCOL.md, Framing).
const maxLineBytes = 1 << 20

type clientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type capabilities struct {
	Dialects   []string `json:"dialects"`
	Ciphers    []string `json:"ciphers"`
	Signing    []string `json:"signing"`
	Auth       []string `json:"auth"`
	Operations []string `json:"operations"`
}

type hello struct {
	Type         string       `json:"type"`
	Protocol     int          `json:"protocol"`
	Client       clientInfo   `json:"client"`
	Capabilities capabilities `json:"capabilities"`
}

type request struct {
	Type string                     `json:"type"`
	ID   *int64                     `json:"id"`
	Op   string                     `json:"op"`
	Args map[string]json.RawMessage `json:"args"`
}

type failure struct {
	Message string `json:"message"`
	Status  string `json:"status,omitempty"`
}

type result struct {
	Type  string      `json:"type"`
	ID    int64       `json:"id"`
	OK    bool        `json:"ok"`
	Value interface{} `json:"value,omitempty"`
	Error *failure    `json:"error,omitempty"`
}

// lineWriter writes one JSON object per line on stdout, which carries nothing else.
type lineWriter struct{ out *bufio.Writer }

func (w *lineWriter) write(message interface{}) error {
	line, err := json.Marshal(message)
	if err != nil {
		return err
	}
	if len(line) >= maxLineBytes {
		return fmt.Errorf("a %d-byte message is longer than the protocol's 1 MiB line", len(line))
	}
	if _, err := w.out.Write(append(line, '\n')); err != nil {
		return err
	}
	return w.out.Flush()
}

// lineReader reads the harness's requests, one per line.
type lineReader struct{ in *bufio.Reader }

func newLineReader(in io.Reader) *lineReader {
	return &lineReader{in: bufio.NewReaderSize(in, 64*1024)}
}

// next returns the next line without its newline, or io.EOF when stdin is closed.
func (r *lineReader) next() ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.in.ReadLine()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return line, nil
			}
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxLineBytes {
			return nil, fmt.Errorf("a request line longer than 1 MiB")
		}
		if !isPrefix {
			return line, nil
		}
	}
}

// parseRequest validates a line as a request message; the error names the field at fault.
func parseRequest(line []byte) (*request, error) {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if req.Type != "request" {
		return nil, fmt.Errorf("type is %q, expected \"request\"", req.Type)
	}
	if req.ID == nil {
		return nil, fmt.Errorf("id is missing")
	}
	if req.Op == "" {
		return nil, fmt.Errorf("op is missing")
	}
	if req.Args == nil {
		req.Args = map[string]json.RawMessage{}
	}
	return &req, nil
}

// argument errors are answered as the operation failing, naming the argument.
type argumentError struct{ op, name, want string }

func (e *argumentError) Error() string {
	return fmt.Sprintf("%s: args.%s must be %s", e.op, e.name, e.want)
}

func stringArg(req *request, name string) (string, error) {
	raw, ok := req.Args[name]
	var value string
	if !ok || json.Unmarshal(raw, &value) != nil {
		return "", &argumentError{req.Op, name, "a string"}
	}
	return value, nil
}

func optionalStringArg(req *request, name string) (string, bool, error) {
	if _, ok := req.Args[name]; !ok {
		return "", false, nil
	}
	value, err := stringArg(req, name)
	return value, err == nil, err
}

func intArg(req *request, name string, fallback int64) (int64, error) {
	raw, ok := req.Args[name]
	if !ok {
		return fallback, nil
	}
	var value int64
	if json.Unmarshal(raw, &value) != nil {
		return 0, &argumentError{req.Op, name, "an integer"}
	}
	return value, nil
}

func boolArg(req *request, name string) (bool, error) {
	raw, ok := req.Args[name]
	var value bool
	if !ok || json.Unmarshal(raw, &value) != nil {
		return false, &argumentError{req.Op, name, "a boolean"}
	}
	return value, nil
}

func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "smb-interop-go-smb2: "+format+"\n", args...)
}
