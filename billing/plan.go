package billing

import (
	"fmt"
	"sort"
)

// PlanID names a plan in the catalog.
type PlanID string

// The plan ids of the catalog in force since 2023-09-01. Prices and quotas
// are data (the plans table), not constants.
const (
	Light  PlanID = "light"
	Medium PlanID = "medium"
	High   PlanID = "high"
)

// Plan is one row of the catalog.
type Plan struct {
	ID     PlanID
	NameZH string // 輕用量
	NameEN string // Light
	Fee    Money  // monthly, before tax
	// FreeMessages is the monthly free-message quota.
	FreeMessages int
	// Additional reports whether messages beyond the quota may be bought.
	Additional bool
	// Rank orders plans: a higher rank is an upgrade.
	Rank int
}

// Name returns the plan's name in lang.
func (p Plan) Name(lang string) string {
	if lang == "en" {
		return p.NameEN
	}
	return p.NameZH
}

// IsUpgradeTo reports whether changing from p to q is an upgrade: q ranks
// higher. An upgrade takes effect at once and charges the difference; it
// is the one rule Quote, Upgrades and the plan page ask.
func (p Plan) IsUpgradeTo(q Plan) bool { return q.Rank > p.Rank }

// IsDowngradeTo reports whether changing from p to q is a downgrade: q
// ranks lower. A downgrade is scheduled for the next month start with no
// refund (Catalog.Downgrade). A plan is neither an upgrade nor a downgrade
// of itself.
func (p Plan) IsDowngradeTo(q Plan) bool { return q.Rank < p.Rank }

// Free reports whether the plan has no fee: renewing it charges nothing, so
// moving to it ends auto-renewal.
func (p Plan) Free() bool { return p.Fee == 0 }

// Catalog is the set of plans on sale, ordered by rank.
type Catalog struct {
	plans []Plan
}

// NewCatalog checks and orders plans.
func NewCatalog(plans []Plan) (Catalog, error) {
	ps := append([]Plan(nil), plans...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Rank < ps[j].Rank })
	seen := map[PlanID]bool{}
	for i, p := range ps {
		if p.ID == "" || seen[p.ID] {
			return Catalog{}, fmt.Errorf("catalog: empty or duplicate plan id %q", p.ID)
		}
		if p.Fee < 0 || p.FreeMessages < 0 {
			return Catalog{}, fmt.Errorf("catalog: plan %s has a negative fee or quota", p.ID)
		}
		if i > 0 && (p.Rank == ps[i-1].Rank || p.Fee <= ps[i-1].Fee) {
			return Catalog{}, fmt.Errorf("catalog: plan %s must rank and cost above %s", p.ID, ps[i-1].ID)
		}
		seen[p.ID] = true
	}
	return Catalog{plans: ps}, nil
}

// Plans lists the catalog in rank order.
func (c Catalog) Plans() []Plan { return append([]Plan(nil), c.plans...) }

// MaxFee is the highest monthly fee in the catalog: by default no promo
// code is worth more (Campaign.Validate).
func (c Catalog) MaxFee() Money {
	var m Money
	for _, p := range c.plans {
		m = max(m, p.Fee)
	}
	return m
}

// Plan returns the plan with id, or an EUnknownPlan error.
func (c Catalog) Plan(id PlanID) (Plan, error) {
	for _, p := range c.plans {
		if p.ID == id {
			return p, nil
		}
	}
	return Plan{}, Errorf(EUnknownPlan, "沒有「%s」這個方案", id)
}

// MustPlan is Plan for ids already validated (e.g. read back from the store).
func (c Catalog) MustPlan(id PlanID) Plan {
	p, err := c.Plan(id)
	if err != nil {
		panic(err)
	}
	return p
}

// Unpaid is the plan an account moves to when its renewal is given up
// unpaid: the lowest plan, light in the catalog in force.
func (c Catalog) Unpaid() Plan { return c.plans[0] }

// FreePlans lists the plans with no fee: renewal charges nothing for them.
func (c Catalog) FreePlans() []PlanID {
	var out []PlanID
	for _, p := range c.plans {
		if p.Free() {
			out = append(out, p.ID)
		}
	}
	return out
}

// Upgrades lists every plan change to a higher rank, from the lowest plan
// up: the changes a campaign may offer to offset.
func (c Catalog) Upgrades() []Transition {
	var out []Transition
	for _, from := range c.plans {
		for _, to := range c.plans {
			if from.IsUpgradeTo(to) {
				out = append(out, Transition{From: from.ID, To: to.ID})
			}
		}
	}
	return out
}

// PaidPlans lists the plans with a fee, in rank order: the plans a renewal
// charges for.
func (c Catalog) PaidPlans() []PlanID {
	var out []PlanID
	for _, p := range c.plans {
		if !p.Free() {
			out = append(out, p.ID)
		}
	}
	return out
}
