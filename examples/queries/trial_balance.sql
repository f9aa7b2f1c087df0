-- GL reconciliation: a trial balance per division, financial period and cost center.
-- Every financial entry's transaction lines balance to zero in the default currency, so debits
-- equal credits per division and period; `balanced` flags any period where they do not.
-- Amounts are in the division's currency, rounded to cents.
WITH lines AS (
    SELECT
        "_division_id"                                     AS division,
        "financial_year"                                   AS financial_year,
        "financial_period"                                 AS financial_period,
        COALESCE("cost_center", '(none)')                  AS cost_center,
        CASE WHEN "amount_dc" > 0 THEN "amount_dc" ELSE 0 END  AS debit_dc,
        CASE WHEN "amount_dc" < 0 THEN -"amount_dc" ELSE 0 END AS credit_dc
    FROM "transaction_lines__current"
),
per_cost_center AS (
    SELECT division, financial_year, financial_period, cost_center,
           ROUND(SUM(debit_dc), 2) AS debit_dc, ROUND(SUM(credit_dc), 2) AS credit_dc
    FROM lines
    GROUP BY division, financial_year, financial_period, cost_center
),
per_period AS (
    SELECT division, financial_year, financial_period,
           ROUND(SUM(debit_dc), 2) AS period_debit_dc, ROUND(SUM(credit_dc), 2) AS period_credit_dc
    FROM lines
    GROUP BY division, financial_year, financial_period
)
SELECT
    c.division,
    c.financial_year,
    c.financial_period,
    c.cost_center,
    c.debit_dc,
    c.credit_dc,
    p.period_debit_dc,
    p.period_credit_dc,
    p.period_debit_dc = p.period_credit_dc AS balanced
FROM per_cost_center AS c
JOIN per_period AS p
    ON p.division = c.division
   AND p.financial_year = c.financial_year
   AND p.financial_period = c.financial_period
ORDER BY c.division, c.financial_year DESC, c.financial_period DESC, c.cost_center;
