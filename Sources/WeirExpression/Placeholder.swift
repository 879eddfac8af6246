package enum WeirExpressionPlaceholder {}
