package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"switchboard/dsl"
)

// isWorkflowFile reports whether a path looks like a DSL file.
func isWorkflowFile(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// collect expands files and folders (recursively) into DSL files.
func collect(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && isWorkflowFile(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// workflowName reads the `name` of a DSL file without compiling it.
func workflowName(path string) (string, bool) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	root, _ := dsl.Parse(path, src)
	if n := root.Get("name"); n != nil && n.Kind == dsl.StringNode {
		if v := root.Get("switchboard"); v != nil {
			return n.Str, true
		}
	}
	return "", false
}

// folderWorkflows maps workflow names to files among the DSL files of dir
// (the first file, in name order, when a name is used twice).
func folderWorkflows(dir string) map[string]string {
	out := map[string]string{}
	for name, files := range folderNames(dir) {
		out[name] = files[0]
	}
	return out
}

// folderNames maps workflow names to all the files of dir that use them.
func folderNames(dir string) map[string][]string {
	out := map[string][]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() || !isWorkflowFile(p) {
			continue
		}
		if name, ok := workflowName(p); ok {
			out[name] = append(out[name], p)
		}
	}
	return out
}

// duplicateName reports a file whose workflow name another file of its
// folder also uses: children are found by name, so names must be unique.
func duplicateName(path string) dsl.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	root, _ := dsl.Parse(path, src)
	n := root.Get("name")
	if n == nil || n.Kind != dsl.StringNode {
		return nil
	}
	var others []string
	for _, f := range folderNames(filepath.Dir(path))[n.Str] {
		if f != path {
			others = append(others, filepath.Base(f))
		}
	}
	if len(others) == 0 {
		return nil
	}
	return dsl.Diagnostics{{File: path, Line: n.Pos.Line, Col: n.Pos.Col,
		Message: fmt.Sprintf("workflow name `%s` is also used by %s in this folder; names must be unique", n.Str, strings.Join(others, ", "))}}
}

// readArg reads an argument given inline or as @file.
func readArg(v string) ([]byte, error) {
	if strings.HasPrefix(v, "@") {
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", v[1:], err)
		}
		return b, nil
	}
	return []byte(v), nil
}
