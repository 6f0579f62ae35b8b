package store

import (
	"fmt"
	"math/rand/v2"
	"time"

	"switchboard/domain"
)

var (
	firstNames = []string{"Ada", "Alan", "Grace", "Katherine", "Margaret", "Barbara", "Edsger", "Donald", "Frances", "John",
		"Radia", "Ken", "Dennis", "Hedy", "Tim", "Vint", "Sophie", "Linus", "Guido", "Anita", "Jean", "Karen", "Leslie", "Niklaus"}
	lastNames = []string{"Lovelace", "Turing", "Hopper", "Johnson", "Hamilton", "Liskov", "Dijkstra", "Knuth", "Allen", "Backus",
		"Perlman", "Thompson", "Ritchie", "Lamarr", "Berners-Lee", "Cerf", "Wilson", "Torvalds", "van Rossum", "Borg", "Sammet",
		"Jones", "Lamport", "Wirth"}
	companies = []string{"Analytical Engines", "Bletchley Park", "US Navy", "NASA", "MIT", "Xerox PARC", "Bell Labs", "CERN",
		"Acme", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises", "Hooli", "Pied Piper"}
	sources = []string{"webinar", "pricing-page", "referral", "trade-show", "ads", "newsletter"}
	// syllables make the bulk of last names: 24 × 24 × 12 of them, so that a
	// name is as rare as in a real customer base
	syllables = []string{"ber", "cal", "dor", "fen", "gar", "hal", "kin", "lor", "mar", "nor", "pel", "quin", "ros", "sal",
		"tor", "ul", "ven", "wil", "yar", "zen", "bro", "cha", "dre", "fle"}
	endings = []string{"son", "berg", "ton", "ez", "ini", "ova", "sen", "ley", "man", "ford", "wood", "ski"}
	tagSets = [][]string{nil, {"vip"}, {"beta"}, {"vip", "beta"}, {"newsletter"}, nil, nil}
)

// FakeCustomers makes n plausible, distinct customers of an organisation
// (deterministic for a seed), spread over the statuses, types, sources and
// the given owners, for seeding and benchmarks. Emails are unique:
// first.last.<i>@<company domain>.
func FakeCustomers(orgID string, n int, seed uint64, owners []string) []domain.Customer {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]domain.Customer, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		if rng.IntN(20) > 0 { // one in twenty has a famous last name
			last = titleCase(syllables[rng.IntN(len(syllables))] + syllables[rng.IntN(len(syllables))] + endings[rng.IntN(len(endings))])
		}
		company := companies[rng.IntN(len(companies))]
		c := domain.Customer{
			OrgID:   orgID,
			Name:    first + " " + last,
			Email:   fmt.Sprintf("%s.%s.%d@%s.example", lower(first), lower(last), i, lower(company)),
			Company: company,
			Status:  domain.CustomerStatuses[rng.IntN(len(domain.CustomerStatuses))],
			Type:    domain.CustomerTypes[rng.IntN(len(domain.CustomerTypes))],
			Source:  sources[rng.IntN(len(sources))],
			Tags:    tagSets[rng.IntN(len(tagSets))],
			// creation times spread over two years, increasing with i
			CreatedAt: base.Add(time.Duration(i) * (2 * 365 * 24 * time.Hour / time.Duration(max(n, 1)))),
		}
		if len(owners) > 0 {
			c.OwnerID = owners[rng.IntN(len(owners))]
		}
		if rng.IntN(3) > 0 {
			c.LifetimeValue = &domain.Money{Amount: int64(rng.IntN(5_000_000)), Currency: "EUR"}
		}
		out[i] = c
	}
	return out
}

func lower(s string) string {
	b := []byte(s)
	n := 0
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[n] = c + 'a' - 'A'
			n++
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b[n] = c
			n++
		}
	}
	return string(b[:n])
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
