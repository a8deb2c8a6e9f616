/**
 * The cost lines of a Service Catalog product's description: the estimate of the fleet the
 * form's defaults launch, and what each further working-hours instance adds, both from the same
 * cost model as `runner-fleet cost` (no figure is typed by hand). Pure.
 */
import {
  defaultFormValues,
  productFleetFromForm,
  productJitterMinutes,
  type CatalogProductDefinition,
  type ProductFormValues,
} from '../config';
import { estimateFleetCost } from './estimate';
import { snapshotPriceBook } from './price-book';

/** The region product descriptions are priced in (the price snapshot's recorded region). */
export const PRODUCT_COST_REGION = 'us-east-1';

export interface ProductCost {
  /** USD per month of the fleet the form's defaults launch. */
  readonly monthlyCost: number;
  /** USD per month one more working-hours instance adds. */
  readonly perAdditionalInstanceMonthly: number;
  readonly form: ProductFormValues;
  readonly region: string;
  /** Where the prices come from. */
  readonly priceSource: string;
}

/** The estimate for a product's default form values, and the cost of one more instance. */
export function productCost(product: CatalogProductDefinition, region = PRODUCT_COST_REGION): ProductCost {
  const prices = snapshotPriceBook(region);
  const form = defaultFormValues();
  const jitter = productJitterMinutes(product.id);
  const estimate = (values: ProductFormValues) => estimateFleetCost(productFleetFromForm(product, values, jitter), { prices }).monthlyCost;
  const monthlyCost = estimate(form);
  const oneMore = estimate({ ...form, workingHoursInstances: form.workingHoursInstances + 1 });
  return {
    monthlyCost,
    perAdditionalInstanceMonthly: oneMore - monthlyCost,
    form,
    region,
    priceSource: `${prices.source.kind} prices of ${prices.source.date}`,
  };
}

/** The description sentence, e.g. "Estimated cost with the defaults (...): about USD 41 a month; each further ... USD 20 a month." */
export function productCostText(cost: ProductCost): string {
  const { form } = cost;
  const usd = (value: number) => `USD ${value.toFixed(0)}`;
  return (
    `Estimated cost with the defaults (${form.workingHoursInstances} ${form.size} instances, ${form.workingDays} ` +
    `${String(form.workStartHour).padStart(2, '0')}:00-${form.workEndHour}:00 ${form.timeZone}, none off-hours): about ${usd(cost.monthlyCost)} a month; each further working-hours instance adds about ` +
    `${usd(cost.perAdditionalInstanceMonthly)} a month (EC2 only, ${cost.region}, ${cost.priceSource}).`
  );
}
