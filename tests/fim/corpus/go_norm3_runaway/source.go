package vec

import "math"

func Norm(v []float64) float64 {
	return math.Sqrt(Dot(v, v))
}

func Norm2(v []float64) float64 {
	█
}
