package dsl

// approval: a human task.
//
//   - id: approveDiscount
//     approval:
//     title: "Approve ${ input.discount }% for ${ input.customer }"
//     assignees: {role: admin}          # or {users: [ana@example.com]}
//     form: {type: object, properties: {reason: {type: string}}}
//     timeout: 2d
//
// Output: {approved, decidedBy, comment, data}; on timeout
// {approved: false, timedOut: true}. Pending tasks are listed by the run's
// `tasks` query and decided through the `decide` update, whose validator
// rejects unknown or already-decided tasks, deciders not among the
// assignees, and form data that does not match `form`.
func init() {
	registerStepKind(&stepKind{
		Name:    "approval",
		Summary: "A human task: wait for an approve/reject decision with optional form data.",
		Output:  "`{approved, decidedBy, comment, data}` (`{approved: false, timedOut: true}` on timeout)",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"approval": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"title"},
				"properties": map[string]any{
					"title":       map[string]any{"type": "string"},
					"description": map[string]any{"type": "string"},
					"assignees": map[string]any{"type": "object", "additionalProperties": false,
						"properties": map[string]any{
							"role":  map[string]any{"enum": Roles},
							"users": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1},
						}},
					"form":    map[string]any{"type": "object", "description": "JSON Schema of the decision's form data."},
					"timeout": d.duration(),
				},
			}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("approval")
			if !c.kindMap(v, "approval", []string{"title", "description", "assignees", "form", "timeout"}) {
				return
			}
			a := &ApprovalStep{}
			st.Approval = a
			if t := c.required(v, "title", "approval"); t != nil {
				a.Title = c.value(t, sc)
			}
			if d := v.Get("description"); d != nil {
				a.Description = c.value(d, sc)
			}
			if as := v.Get("assignees"); as != nil && c.kindMap(as, "assignees", []string{"role", "users"}) {
				if r := as.Get("role"); r != nil {
					role := c.str(r, "role")
					if !contains(Roles, role) {
						c.r.at(r.Pos, "unknown role `%s`; roles are %s%s", role, quoteList(Roles), suggest(role, Roles))
					}
					a.Role = role
				}
				if u := as.Get("users"); u != nil {
					if u.Kind != ListNode || len(u.Items) == 0 {
						c.r.at(u.Pos, "`users` is a non-empty list of user names or emails")
					} else {
						for _, it := range u.Items {
							a.Users = append(a.Users, c.str(it, "user"))
						}
					}
				}
				if a.Role != "" && a.Users != nil {
					c.r.at(as.Pos, "`assignees` takes `role` or `users`, not both")
				}
			}
			if f := v.Get("form"); f != nil {
				a.Form = c.schemaDoc(f, "approval form")
			}
			if t := v.Get("timeout"); t != nil {
				a.Timeout = c.duration(t)
			}
			if st.ID != "" {
				c.approvals[st.ID] = n.Pos
			}
		},
	})
}

// Roles are the platform's roles, from most to least powerful.
var Roles = []string{"owner", "admin", "builder", "operator", "viewer"}
