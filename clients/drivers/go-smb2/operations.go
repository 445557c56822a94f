package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	smb2 "github.com/hirochachacha/go-smb2"
)

// client is one SMB session on one share, what a driver process serves.
type client struct {
	conn    net.Conn
	session *smb2.Session
	share   *smb2.Share
	// timeout is the connect's timeoutMs, each operation's limit.
	timeout time.Duration
}

func (c *client) connect(req *request) (interface{}, *failure) {
	host, err := stringArg(req, "host")
	if err != nil {
		return nil, &failure{Message: err.Error()}
	}
	port, err := intArg(req, "port", 445)
	if err != nil || port < 1 || port > 65535 {
		return nil, &failure{Message: "connect: args.port must be an integer from 1 to 65535"}
	}
	shareName, err := stringArg(req, "share")
	if err != nil {
		return nil, &failure{Message: err.Error()}
	}
	timeoutMs, err := intArg(req, "timeoutMs", 30_000)
	if err != nil || timeoutMs <= 0 {
		return nil, &failure{Message: "connect: args.timeoutMs must be a positive integer"}
	}
	username, hasUser, err := optionalStringArg(req, "username")
	if err != nil {
		return nil, &failure{Message: err.Error()}
	}
	password, _, err := optionalStringArg(req, "password")
	if err != nil {
		return nil, &failure{Message: err.Error()}
	}
	domain, _, err := optionalStringArg(req, "domain")
	if err != nil {
		return nil, &failure{Message: err.Error()}
	}
	if c.session != nil {
		return nil, &failure{Message: "connect: already connected"}
	}
	if !hasUser {
		// go-smb2 refuses an empty user name (client.go, DialContext); a guest logon is an NTLM
		// logon with an account the server maps to its guest.
		username = "guest"
	}

	timeout := time.Duration(timeoutMs) * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	address := net.JoinHostPort(host, strconv.FormatInt(port, 10))
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", address)
	if err != nil {
		return nil, &failure{Message: fmt.Sprintf("connect: TCP connection to %s failed: %v", address, err)}
	}
	dialer := &smb2.Dialer{Initiator: &smb2.NTLMInitiator{User: username, Password: password, Domain: domain}}
	session, err := dialer.DialContext(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, describe("connect (NEGOTIATE, SESSION_SETUP)", err)
	}
	share, err := session.WithContext(ctx).Mount(fmt.Sprintf(`\\%s\%s`, host, shareName))
	if err != nil {
		// Within the connect's limit, as close() logs off: a server that stopped answering must not keep LOGOFF waiting.
		session.WithContext(ctx).Logoff()
		conn.Close()
		return nil, describe("connect (TREE_CONNECT "+shareName+")", err)
	}
	c.conn, c.session, c.share, c.timeout = conn, session, share, timeout
	return struct{}{}, nil
}

// close unmounts, logs off and closes the connection; the first error is the answer.
func (c *client) close() *failure {
	if c.session == nil {
		return nil
	}
	// The connect's limit, as for every operation: a server that stopped answering must not keep
	// TREE_DISCONNECT or LOGOFF waiting (go-smb2 waits for their responses without end otherwise).
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var first *failure
	if err := c.share.WithContext(ctx).Umount(); err != nil {
		first = describe("close (TREE_DISCONNECT)", err)
	}
	if err := c.session.WithContext(ctx).Logoff(); err != nil && first == nil {
		first = describe("close (LOGOFF)", err)
	}
	c.conn.Close()
	c.session, c.share, c.conn = nil, nil, nil
	return first
}

func (c *client) writeFile(path, source string) *failure {
	local, err := os.Open(source)
	if err != nil {
		return &failure{Message: fmt.Sprintf("writeFile: cannot read the local source: %v", err)}
	}
	defer local.Close()
	remote, err := c.share.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return describe("writeFile "+path, err)
	}
	_, err = io.Copy(remote, local)
	if closeErr := remote.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return describe("writeFile "+path, err)
	}
	return nil
}

func (c *client) readFile(path, destination string) (interface{}, *failure) {
	remote, err := c.share.Open(path)
	if err != nil {
		return nil, describe("readFile "+path, err)
	}
	defer remote.Close()
	local, err := os.Create(destination)
	if err != nil {
		return nil, &failure{Message: fmt.Sprintf("readFile: cannot create the local destination: %v", err)}
	}
	size, err := io.Copy(local, remote)
	if closeErr := local.Close(); err == nil && closeErr != nil {
		return nil, &failure{Message: fmt.Sprintf("readFile: cannot write the local destination: %v", closeErr)}
	}
	if err != nil {
		return nil, describe("readFile "+path, err)
	}
	return map[string]interface{}{"size": size}, nil
}

func (c *client) stat(path string) (interface{}, *failure) {
	info, err := c.share.Stat(path)
	if err != nil {
		return nil, describe("stat "+path, err)
	}
	return map[string]interface{}{"size": info.Size(), "isDirectory": info.IsDir()}, nil
}

type entry struct {
	Name        string `json:"name"`
	IsDirectory bool   `json:"isDirectory"`
	Size        int64  `json:"size"`
}

func (c *client) readdir(path string) (interface{}, *failure) {
	infos, err := c.share.ReadDir(path)
	if err != nil {
		return nil, describe("readdir "+path, err)
	}
	entries := make([]entry, 0, len(infos))
	for _, info := range infos {
		entries = append(entries, entry{Name: info.Name(), IsDirectory: info.IsDir(), Size: info.Size()})
	}
	return map[string]interface{}{"entries": entries}, nil
}

func (c *client) exists(path string) (interface{}, *failure) {
	_, err := c.share.Stat(path)
	if err == nil {
		return map[string]interface{}{"exists": true}, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return map[string]interface{}{"exists": false}, nil
	}
	return nil, describe("exists "+path, err)
}

func (c *client) rename(from, to string, replace bool) *failure {
	err := c.share.Rename(from, to)
	if err == nil {
		return nil
	}
	answer := describe("rename "+from+" -> "+to, err)
	if replace && errors.Is(err, os.ErrExist) {
		// client.go, Share.Rename: FileRenameInformation is always sent with ReplaceIfExists 0.
		answer.Message += " (go-smb2's Rename never asks the server to replace an existing target)"
	}
	return answer
}
