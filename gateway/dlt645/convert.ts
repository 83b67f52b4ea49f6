import { decodeDataItem, type DataItem } from '../../common/dlt645/data-items.ts';
import { deviceReading, type Converter } from '../connectors/converter.ts';

/** One data item as a meter answered it: the data bytes after the identifier, 33H taken off. */
export interface DataItemRead {
  item: DataItem;
  data: Uint8Array;
}

/**
 * The DL/T 645 converter (gateway/connectors/converter.ts): the reading of one data item. Data
 * that is not the item's length or not BCD gives a `bad` reading and a problem.
 */
export const convertDataItem: Converter<DataItemRead> = ({ item, data }, device, ts) => {
  const v = decodeDataItem(item, data);
  if (v.ok) return { readings: [deviceReading(device, item.metric, v.value, ts, item.engUnit)], events: [], problems: [] };
  return {
    readings: [deviceReading(device, item.metric, null, ts, item.engUnit)],
    events: [],
    problems: [{ metric: item.metric, reason: v.reason, detail: v.detail }],
  };
};
