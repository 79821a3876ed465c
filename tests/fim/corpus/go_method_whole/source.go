package stack

type Stack struct {
	items []int
}

█